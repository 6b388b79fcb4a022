# hoist — see README.md. `make test` and `make demo` set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := crun runc busybox-static skopeo umoci docker-registry
PYTEST_ARGS ?=

.PHONY: test lint deps venv demo demo-node bench clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m compileall -q src >/dev/null  # byte-code once, even where PYTHONDONTWRITEBYTECODE is set
	touch $@

venv: $(VENV)/.stamp

lint: venv
	$(VENV)/bin/ruff check src tests

test: deps venv lint
	$(PY) -m pytest -q $(PYTEST_ARGS)

demo: deps venv
	bash examples/demo.sh

demo-node: deps venv
	@command -v debootstrap >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null)
	bash examples/node/demo.sh

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info
