# Two commands on a fresh machine: `make pipeline` (set up + run everything) and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
DATA_DIR ?= data
# Where the four official MNIST .gz files can be copied from when offline (see README).
MNIST_GZ_DIR ?= ../shared/data/mnist

WEB    := mobile_demo/web

.PHONY: help venv web data pipeline train export report test bench config-reference clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import torch, torchvision, executorch, onnxruntime"  # fail here, not mid-pipeline
	touch $@

venv: $(VENV)/.installed  ## create .venv and install the project with its pinned dependencies

$(WEB)/node_modules/.installed: $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --no-audit --no-fund
	touch $@

web: $(WEB)/node_modules/.installed  ## install the web demo's npm packages (onnxruntime-web, playwright-core) from its lock file

data:  ## put the MNIST .gz files in data/MNIST/raw (copied from MNIST_GZ_DIR when it exists)
	@mkdir -p $(DATA_DIR)/MNIST/raw
	@if [ -d "$(MNIST_GZ_DIR)" ]; then cp -n $(MNIST_GZ_DIR)/*.gz $(DATA_DIR)/MNIST/raw/; \
	 else echo "note: $(MNIST_GZ_DIR) not found; torchvision will download MNIST if there is network"; fi

train: venv data  ## train the MLP -> checkpoints/mlp.pt
	DATA_DIR=$(DATA_DIR) $(PY) -m train

export: venv data  ## export, verify and embed every artifact -> artifacts/, mobile_demo/*/
	DATA_DIR=$(DATA_DIR) $(PY) -m export --embed true

report: venv web data  ## measure the web demo in headless Chromium, then the latency report -> reports/
	@if command -v chromium >/dev/null; then \
	  node $(WEB)/bench.mjs bench --warmup 100 --iterations 1000 --out reports/device_results/browser-wasm.json; \
	 else echo "note: chromium not installed (apt-get install chromium): the report's browser-wasm rows will say not measured"; fi
	DATA_DIR=$(DATA_DIR) $(PY) -m runtime

pipeline: train export report  ## set up and run the whole job: train -> export -> embed -> browser bench -> report

test: venv web data  ## run every test: the Java/JUnit suite, then pytest (Python, browser, cross-language)
	bash mobile_demo/android/run_jvm_tests.sh
	DATA_DIR=$(DATA_DIR) $(PY) -m pytest

bench: venv data  ## check the speed, size and accuracy targets from one measured run -> reports/bench/bench.json
	DATA_DIR=$(DATA_DIR) $(PY) -m tools.bench

config-reference: venv  ## print the config reference (the README's section is this output)
	@$(PY) -m tools.config_reference

# runtime/arm64.py reads the same folder (its CACHE)
ARM64_CACHE := .cache/arm64

.PHONY: arm64
arm64: venv  ## set up the arm64 target (qemu-user, arm64 userland, aarch64 wheels, runner, counting plugin) -> .cache/arm64
	bash native/arm64/setup.sh $(PY) $(ARM64_CACHE)

# The report's arm64 rows and tests/runtime/test_arm64.py run on that set-up.
report test: arm64

clean:  ## remove outputs (keeps .venv and data)
	rm -rf checkpoints artifacts artifacts-runs reports
