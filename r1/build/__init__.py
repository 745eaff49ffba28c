"""The build machinery: the DAG, artifact paths, atomic outputs and manifests, checkpoints, lineage and quality
gates. Imports no torch, so Snakemake and DVC can read the DAG cheaply."""
