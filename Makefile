# Two commands do all set-up on a fresh machine: `make chat` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LLAMA  := $(VENV)/.llama-built
# llama.cpp is compiled for this CPU (-march=native) but without AMX: some virtual machines
# report AMX in cpuid without enabling it, and the AMX kernels then die with SIGILL on
# Q4_K weights. --no-cache-dir: a wheel cached by an earlier build with other flags would
# be reused as it is.
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=ON -DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'
MODEL  ?= qwen2.5-coder-0.5b

.PHONY: install chat test lint run eval bench check clean

## install: create .venv with everything and put the default model in place (idempotent)
install: $(STAMP)
	@$(BIN)/python -m bot.model_fetch $(MODEL)
	@$(BIN)/python -m bot index

$(LLAMA):
	@echo "Compiling llama-cpp-python into $(VENV) (about 5 minutes on 2 cores, once)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet --no-cache-dir \
		--force-reinstall --no-deps "$$(grep -o 'llama-cpp-python==[0-9.]*' pyproject.toml)"
	@touch $(LLAMA)

$(STAMP): pyproject.toml $(LLAMA)
	@echo "Installing the project and its pinned dependencies into $(VENV)"
	$(BIN)/python -m pip install --quiet -e '.[dev,server]'
	@touch $(STAMP)

## chat: ask questions in the terminal on the default model and knowledge
chat: install
	@$(BIN)/python -m bot chat

## test: lint, format check, the whole test suite (real model, fake Discord), then the eval
## gate: the project's own eval set answered by the default model must pass >= 90%
test: install lint
	$(BIN)/python -m pytest
	$(BIN)/python -m bot eval --questions evals --min-pass 0.9

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## run: start the Discord bot (needs DISCORD_TOKEN in the environment)
run: install
	@$(BIN)/python -m bot run

eval: install
	$(BIN)/python -m bot eval --questions evals

bench: install
	$(BIN)/python -m bot bench

check: install
	$(BIN)/python -m bot check

clean:
	rm -rf $(VENV) models .pytest_cache .ruff_cache *.egg-info
