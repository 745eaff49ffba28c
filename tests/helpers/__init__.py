"""Shared test helpers: `tiny` stand-ins (tokenizers, models, tasks) and `pipeline` (scratch repo copies,
Snakemake and DVC runs)."""
