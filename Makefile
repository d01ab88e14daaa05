# Two commands do all set-up on a fresh machine: `make chat` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MODEL  := models/SmolLM2-135M-Instruct.Q4_1.gguf

.PHONY: install chat test lint run eval bench check clean

## install: create .venv with everything and put the default model in place (idempotent)
install: $(STAMP)
	@$(BIN)/python -m bot.model_fetch $(MODEL)

$(STAMP): pyproject.toml
	@echo "Installing into $(VENV) (the first time compiles llama.cpp: about 4 minutes on 2 cores)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## chat: ask questions in the terminal on the default model and knowledge
chat: install
	@$(BIN)/python -m bot chat

## test: lint, format check and the whole test suite (real model, fake Discord)
test: install lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

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
