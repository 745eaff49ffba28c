# Part 2: cold start -> interim -> reasoning set (one job per shard) + non-reasoning set -> SFT -> final RL;
# reward models; students. Inputs, outputs, params and commands come from r1/dag.py, like part 1.

# The shard count is a params key: rebuild the stage table with the active profile's count (configs/full.yaml has
# many more shards than the default profile), so each shard is its own job with its own GPU.
STAGES.update(r1_dag.by_name(PARAMS.eval.models, n_shards=PARAMS.reasoning_set.n_shards))
PART2 = [s.name for s in r1_dag.part2_stages(PARAMS.reasoning_set.n_shards)]


for stage in PART2:

    rule:
        name:
            stage
        input:
            stage_inputs(stage),
        output:
            stage_outputs(stage),
        params:
            cfg=stage_params(stage),
        resources:
            **stage_resources(stage),
        log:
            f"logs/{stage}.log",
        benchmark:
            f"benchmarks/{stage}.tsv"
        shell:
            stage_shell(stage)
