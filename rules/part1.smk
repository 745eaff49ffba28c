# Part 1: tasks -> base -> R1-Zero -> eval. Inputs, outputs, params and commands come from r1/dag.py.


rule tasks:
    input:
        stage_inputs("tasks"),
    output:
        stage_outputs("tasks"),
    params:
        cfg=stage_params("tasks"),
    threads: stage_threads("tasks")
    log:
        "logs/tasks.log",
    benchmark:
        "benchmarks/tasks.tsv"
    shell:
        stage_shell("tasks")


rule base:
    input:
        stage_inputs("base"),
    output:
        stage_outputs("base"),
    params:
        cfg=stage_params("base"),
    threads: stage_threads("base")
    resources:
        **stage_resources("base"),
    log:
        "logs/base.log",
    benchmark:
        "benchmarks/base.tsv"
    shell:
        stage_shell("base")


rule r1_zero:
    input:
        stage_inputs("r1_zero"),
    output:
        stage_outputs("r1_zero"),
    params:
        cfg=stage_params("r1_zero"),
    threads: stage_threads("r1_zero")
    resources:
        **stage_resources("r1_zero"),
    log:
        "logs/r1_zero.log",
    benchmark:
        "benchmarks/r1_zero.tsv"
    shell:
        stage_shell("r1_zero")


def eval_rule(model):
    """One rule per model. Inside a function on purpose: Snakemake evaluates `shell:` again when the job runs, so
    in a plain loop every eval rule would run the last model's command (late binding)."""

    rule:
        name:
            f"eval_{model}"
        input:
            stage_inputs(f"eval_{model}"),
        output:
            stage_outputs(f"eval_{model}"),
        params:
            cfg=stage_params(f"eval_{model}"),
        threads: stage_threads(f"eval_{model}")
        resources:
            **stage_resources(f"eval_{model}"),
        log:
            f"logs/eval_{model}.log",
        benchmark:
            f"benchmarks/eval_{model}.tsv"
        shell:
            stage_shell(f"eval_{model}")


for model in PARAMS.eval.models:
    eval_rule(model)


rule eval:
    input:
        stage_inputs("eval"),
    output:
        stage_outputs("eval"),
    params:
        cfg=stage_params("eval"),
    threads: stage_threads("eval")
    log:
        "logs/eval.log",
    benchmark:
        "benchmarks/eval.tsv"
    shell:
        stage_shell("eval")
