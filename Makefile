# The two commands of the README. Each sets up what it needs first, on a fresh clone.
VENV ?= .venv
BIN = $(VENV)/bin
PORT ?= 8000

.PHONY: serve test lint setup

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

serve: setup
	$(BIN)/feedsvc serve --port $(PORT)

lint: setup
	$(BIN)/ruff check feedsvc tests bench
	$(BIN)/ruff format --check feedsvc tests bench
	$(BIN)/mypy

test: setup lint
	bash scripts/system-deps.sh
	$(BIN)/pytest
