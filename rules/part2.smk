# Part 2: cold start -> interim -> reasoning set (one job per shard) + non-reasoning set -> SFT -> final RL;
# reward models; students. Inputs, outputs, params and commands come from r1/dag.py, like part 1.

# The shard count is a params key: rebuild the stage table with the active profile's count (configs/full.yaml has
# many more shards than the default profile), so each shard is its own job with its own GPU.
STAGES.update(r1_dag.by_name(PARAMS.eval.models, n_shards=PARAMS.reasoning_set.n_shards))
PART2 = [s.name for s in r1_dag.part2_stages(PARAMS.reasoning_set.n_shards)]

# At full scale the training stages run on a node's GPUs through accelerate (r1.dag.MULTI_GPU_LAUNCH); elsewhere the
# plain command.
def part2_shell(name):
    if PROFILE != "full":
        return stage_shell(name)
    return STAGES[name].multi_gpu_command(PROFILE) + " 2>&1 | tee {log}"


def part2_priority(name):
    return STAGES[name].priority


def part2_resources(name):
    resources = stage_resources(name)
    if PROFILE == "full" and name in r1_dag.MULTI_GPU_LAUNCH:
        resources["gpu"] = r1_dag.GPUS_PER_TRAINING_JOB
    return resources


def part2_rule(stage):
    """One rule per stage. Defined inside a function on purpose: Snakemake evaluates a `shell:` expression again
    when the job runs, so in a plain `for` loop every rule would run the last stage's command (late binding)."""

    rule:
        name:
            stage
        input:
            stage_inputs(stage),
        output:
            stage_outputs(stage),
        params:
            cfg=stage_params(stage),
        threads: stage_threads(stage)
        priority: part2_priority(stage)
        resources:
            **part2_resources(stage),
        log:
            f"logs/{stage}.log",
        benchmark:
            f"benchmarks/{stage}.tsv"
        shell:
            part2_shell(stage)


for name in PART2:
    part2_rule(name)
