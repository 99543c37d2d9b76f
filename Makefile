# Set-up on a fresh machine is two commands: `make demo` (the main job, offline) and `make test`.
# Both create .venv on first use: torch and torchvision from pip's index (the pinned CUDA build),
# then suite itself in editable mode with its dev and dist extras (Ray and submitit, which the executor tests use).

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: install demo test browser docs-check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(VENV)/bin/python -m pip install --quiet -e ".[dev,dist]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/suite demo

# Headless Chromium and its driver for the dashboard's browser test (Debian's packages; needs root, as in CI).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; } || echo "chromium not installed: the browser test will be skipped"

test: $(STAMP) browser
	$(VENV)/bin/python -m pytest -n 2 -q --durations=15

# The outputs README.md and BENCHMARKS.md quote, regenerated from today's code and the demo's store
# (run `make demo` first); `python scripts/docs_check.py --write` rewrites the blocks that drifted.
docs-check: $(STAMP)
	$(VENV)/bin/python scripts/docs_check.py
