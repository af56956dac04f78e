# `make demo`: install, then train and evaluate on the embedded long-tailed demo data.
# `make test`: install, then run the test suite. Both install what they need; a second run only checks.
# `make docker-test`: build the CPU image (docker/Dockerfile) and run tests/docker in it (docker/ci.sh; root).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ltmm-installed

.PHONY: install demo test docker-test clean

install: $(STAMP)

$(STAMP): tools/install.sh setup.py $(wildcard requirements/*.txt)
	VENV=$(VENV) PYTHON=$(PYTHON) bash tools/install.sh
	touch $@

demo: install
	PYTHON=$(PY) bash tools/demo.sh

test: install
	$(PY) -m pytest -q tests

docker-test: install
	VENV=$(VENV) bash docker/ci.sh

clean:
	rm -rf work_dirs data/lt_shapes data/digits_lt
