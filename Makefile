# Two commands on a fresh machine: `make pipeline` (set up + run everything) and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
DATA_DIR ?= data
# Where the four official MNIST .gz files can be copied from when offline (see README).
MNIST_GZ_DIR ?= ../shared/data/mnist

.PHONY: help venv data pipeline train test bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import torch, torchvision, executorch, onnxruntime"  # fail here, not mid-pipeline
	touch $@

venv: $(VENV)/.installed  ## create .venv and install the project with its pinned dependencies

data:  ## put the MNIST .gz files in $(DATA_DIR)/MNIST/raw (copied from MNIST_GZ_DIR when it exists)
	@mkdir -p $(DATA_DIR)/MNIST/raw
	@if [ -d "$(MNIST_GZ_DIR)" ]; then cp -n $(MNIST_GZ_DIR)/*.gz $(DATA_DIR)/MNIST/raw/; \
	 else echo "note: $(MNIST_GZ_DIR) not found; torchvision will download MNIST if there is network"; fi

train: venv data  ## train the MLP -> checkpoints/mlp.pt
	DATA_DIR=$(DATA_DIR) $(PY) -m train

pipeline: train  ## set up and run the whole job: train (export, embed and report follow as they land)

test: venv data  ## run the whole test suite
	DATA_DIR=$(DATA_DIR) $(PY) -m pytest

bench: venv data  ## the speed and accuracy targets, measured side by side
	DATA_DIR=$(DATA_DIR) $(PY) -m pytest tests -m bench -q

clean:  ## remove outputs (keeps .venv and data)
	rm -rf checkpoints artifacts reports
