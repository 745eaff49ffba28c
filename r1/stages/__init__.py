"""One module per pipeline stage, named as the stage, its params section and its artifact.

Each reads its inputs from its DAG row, calls library code and publishes its artifact. Nothing imports a stage."""
