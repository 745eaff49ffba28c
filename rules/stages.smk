# One rule per row of the DAG (r1/build/dag.py), for the active profile.


def stage_rule(stage):
    """Defined inside a function on purpose: Snakemake evaluates `shell:` again when the job runs, so in a plain loop
    every rule would run the last stage's command (late binding)."""

    rule:
        name:
            stage.name
        input:
            *stage_code(stage),
            **stage_inputs(stage),
        output:
            stage_outputs(stage),
        params:
            cfg=stage_params(stage),
        threads: stage_threads(stage)
        priority: stage.priority
        resources:
            **stage_resources(stage),
        log:
            f"logs/{stage.name}.log",
        benchmark:
            f"benchmarks/{stage.name}.tsv"
        shell:
            stage_shell(stage)


for stage in STAGES.values():
    stage_rule(stage)
