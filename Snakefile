# r1-build: the DeepSeek-R1 recipe as a build. Stages are declared once in r1/build/dag.py; rules/ only wires them.
#   snakemake --cores all                                          # default profile (CPU, minutes)
#   snakemake report --cores all --configfile=configs/ci.yaml      # another profile: configs/<name>.yaml
from snakemake.utils import min_version

min_version("9.0")


configfile: "params.yaml"


include: "rules/common.smk"
include: "rules/stages.smk"


# Under SLURM, the profile's site settings and the jobs' `python` are checked before any job is submitted.
onstart:
    r1_check_executor()


# When Snakemake ends, each job that finished is recorded in dvc.lock (r1/build/record.py), even after a failed job:
# what Snakemake built, DVC versions, pushes and pulls.
onsuccess:
    r1_record()


onerror:
    r1_record()


rule all:
    input:
        STAGES["report"].all_outs,
    default_target: True
