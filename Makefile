# The README's commands. Each target sets itself up from nothing (a local .venv).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMP_NUM_THREADS ?= 1

.PHONY: setup test test-core test-mpi run bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,mpi,examples]'
	touch $(STAMP)

setup: $(STAMP)

# single-process tests, then the distributed tests under mpirun with 2 and 3 ranks
test: $(STAMP)
	$(BIN)/python -m pytest -q tests --ignore=tests/distributed
	@if [ -d tests/distributed ]; then \
	  $(BIN)/mpirun -n 2 $(BIN)/python -m pytest -q --color=no tests/distributed && \
	  $(BIN)/mpirun -n 3 --oversubscribe $(BIN)/python -m pytest -q --color=no tests/distributed; fi

# the main job: data-parallel CNN training on the bundled digits, 2 ranks
run: $(STAMP)
	$(BIN)/disttorchrun -n 2 examples/train_ddp.py --checkpoint-dir runs/digits $(ARGS)

test-core: $(STAMP)
	$(BIN)/python -m pytest -q tests --ignore=tests/distributed

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py

lint: $(STAMP)
	$(BIN)/python -m pip install -q ruff
	$(BIN)/ruff check disttorch tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
