"""r1-build: the DeepSeek-R1 recipe as a chain of versioned, validated artifacts."""

__version__ = "0.1.0"
