# r1-build: the DeepSeek-R1 recipe as a build. Stages are declared once in r1/dag.py; rules/ only wires them.
#   snakemake --cores all eval                                  # default profile (CPU, minutes)
#   snakemake --cores all --configfile configs/ci.yaml eval     # another profile: configs/<name>.yaml
from snakemake.utils import min_version

min_version("9.0")


configfile: "params.yaml"


include: "rules/common.smk"
include: "rules/part1.smk"
include: "rules/part2.smk"


rule all:
    input:
        stage_targets("eval"),
    default_target: True
