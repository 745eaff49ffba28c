# Part 2: cold start -> interim -> reasoning set (one job per shard) + non-reasoning set -> SFT -> final RL;
# reward models; students. Inputs, outputs, params and commands come from r1/dag.py, like part 1.

# The shard count is a params key: rebuild the stage table with the active profile's count (configs/full.yaml has
# many more shards than the default profile), so each shard is its own job with its own GPU.
STAGES.update(r1_dag.by_name(PARAMS.eval.models, n_shards=PARAMS.reasoning_set.n_shards))
PART2 = [s.name for s in r1_dag.part2_stages(PARAMS.reasoning_set.n_shards)]

# At full scale the training stages run on a node's 8 GPUs through accelerate (configs/accelerate/): DeepSpeed
# ZeRO-3 for the base-sized models, plain data parallel for the students. Elsewhere: the plain command.
LAUNCH = {
    "cold_start_sft": "deepspeed_zero3",
    "interim": "deepspeed_zero3",
    "sft": "deepspeed_zero3",
    "reward_models": "deepspeed_zero3",
    "final": "deepspeed_zero3",
    "student": "ddp",
    "rl_student": "ddp",
}
GPUS_PER_TRAINING_JOB = 8


def part2_shell(name):
    if PROFILE != "full" or name not in LAUNCH:
        return stage_shell(name)
    stage = STAGES[name]
    args = f" {stage.args}" if stage.args else ""
    return (f"accelerate launch --config_file configs/accelerate/{LAUNCH[name]}.yaml "
            f"-m r1.{stage.module}{args} --profile {PROFILE} 2>&1 | tee {{log}}")


# Side branches (students, reward models) yield to the main chain when both could run: R1's critical path is
# base -> r1_zero -> cold start -> interim -> reasoning set -> sft -> final.
SIDE_BRANCH = {"student_base", "rl_student", "student", "reward_models"}


def part2_priority(name):
    return -1 if name in SIDE_BRANCH else 0


def part2_threads(name):
    """One core per job: torch runs a single thread here (r1.modeling.set_threads: two threads ran 5-17x slower on
    this shared CPU), so reserving every core for a training job would only serialize part 2's training."""
    return 1


def part2_resources(name):
    resources = stage_resources(name)
    if PROFILE == "full" and name in LAUNCH:
        resources["gpu"] = GPUS_PER_TRAINING_JOB
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
        threads: part2_threads(stage)
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
