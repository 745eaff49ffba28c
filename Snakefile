# r1-build: the DeepSeek-R1 recipe as a build. Stages are declared once in r1/build/dag.py; rules/ only wires them.
#   snakemake --cores all                                          # default profile (CPU, minutes)
#   snakemake report --cores all --configfile=configs/ci.yaml      # another profile: configs/<name>.yaml
from snakemake.utils import min_version

min_version("9.0")


configfile: "params.yaml"


include: "rules/common.smk"
include: "rules/stages.smk"


rule all:
    input:
        STAGES["report"].all_outs,
    default_target: True
