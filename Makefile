# Two entry points for a new user: `make run` (set up and start the app) and `make test` (set up and run every test).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 7860
ARGS ?=

.PHONY: run test bench browser-deps clean

$(VENV)/.runtime-installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime-installed
	$(PY) app.py --port $(PORT) --inbrowser $(ARGS)

# Headless Chromium for the browser tests (Debian's package: Playwright cannot download browsers here), and Noto CJK
# fonts so Korean renders in the browser and in exported reports. Installs only what is missing, only as root.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium and fonts-noto-cjk (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else \
	    echo "Chromium or fonts-noto-cjk is missing: install Debian's chromium and fonts-noto-cjk to run the browser tests"; \
	  fi; \
	fi

test: $(VENV)/.dev-installed browser-deps
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed
	$(PY) bench/benchmark.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
