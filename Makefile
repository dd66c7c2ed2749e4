# Two commands on a fresh machine: `make pipeline` (set up + run everything) and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
DATA_DIR ?= data
# Where the four official MNIST .gz files can be copied from when offline (see README).
MNIST_GZ_DIR ?= ../shared/data/mnist

WEB    := mobile_demo/web

# Debian packages each goal needs, as PACKAGE=PROBE: a probe (command or absolute path) that is
# present means nothing to install. tools/ensure_packages.sh installs only what is missing
# (apt-get as root, or sudo -n), else prints the one command to run.
PIPELINE_PACKAGES := nodejs=node npm=npm chromium=chromium
TEST_PACKAGES     := $(PIPELINE_PACKAGES) openjdk-17-jdk-headless=javac adb=adb maven=mvn aapt=aapt2

.PHONY: help system-pipeline system-test android-check venv web data pipeline pipeline-steps train export report screenshot test test-setup bench timing config-reference clean

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

system-pipeline:  ## install the Debian packages `make pipeline` needs (node, npm, chromium), only those missing
	@bash tools/ensure_packages.sh $(PIPELINE_PACKAGES)

system-test:  ## install the Debian packages `make test` needs (those above + JDK 17, adb, Maven, aapt), only those missing
	@bash tools/ensure_packages.sh $(TEST_PACKAGES)

# uv (from PyPI, pinned) installs the pinned set into the venv: it unpacks wheels in parallel and
# links them from its cache (~/.cache/uv), seconds where pip takes minutes with torch's CUDA build.
# Like pip --no-compile, it does not byte-compile every file of every package (~45 s of CPU here):
# each module is compiled on its first import instead, once (see below).
UV_VERSION := 0.13.9
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]'
	$(PY) -c "import train.__main__, export.__main__, runtime.__main__"  # fail here, not mid-pipeline
	touch $@

# Every command here keeps the bytecode Python compiles (its default): where the environment sets
# PYTHONDONTWRITEBYTECODE, each process would compile again every module it imports that has none,
# ~2 s of CPU for one that loads ExecuTorch's compiler, and `make test` starts ~100 processes.
unexport PYTHONDONTWRITEBYTECODE

venv: $(VENV)/.installed  ## create .venv and install the project with its pinned dependencies

$(WEB)/node_modules/.installed: $(WEB)/package-lock.json | system-pipeline
	npm ci --prefix $(WEB) --no-audit --no-fund
	touch $@

web: $(WEB)/node_modules/.installed  ## install the web demo's npm packages (onnxruntime-web, playwright-core) from its lock file

data:  ## put the MNIST .gz files in data/MNIST/raw (copied from MNIST_GZ_DIR when it exists)
	@mkdir -p $(DATA_DIR)/MNIST/raw
	@if [ -d "$(MNIST_GZ_DIR)" ]; then cp -n $(MNIST_GZ_DIR)/*.gz $(DATA_DIR)/MNIST/raw/; \
	 else echo "note: $(MNIST_GZ_DIR) not found; torchvision will download MNIST if there is network"; fi

# Each stage skips itself, with one line saying why, when its output was made from the same
# inputs (common/stages.py); FORCE=1 runs every stage anyway: `make pipeline FORCE=1`.
FORCE ?=
STAGE_FLAGS := $(if $(filter-out 0,$(FORCE)),--force)

train: venv data  ## train the MLP -> checkpoints/mlp.pt
	DATA_DIR=$(DATA_DIR) $(PY) -m train $(STAGE_FLAGS)

export: venv data train  ## export, verify and embed every artifact -> artifacts/, mobile_demo/*/
	DATA_DIR=$(DATA_DIR) $(PY) -m export --embed true $(STAGE_FLAGS)

report: system-pipeline venv web data export  ## measure the web demo in headless Chromium, then the latency report -> reports/
	$(PY) -m runtime.browser $(STAGE_FLAGS)
	DATA_DIR=$(DATA_DIR) $(PY) -m runtime $(STAGE_FLAGS)

# One pipeline at a time in a folder: a second `make pipeline` says so and waits for the first,
# then finds every stage done, so neither publishes a mix of two runs. Two make jobs at a time
# (this machine's 2 cores): the ARM64 set-up runs beside training and export (one thread each), npm
# beside pip; `report` waits for everything, so nothing runs beside a measurement.
pipeline:  ## set up and run the whole job: train -> export -> embed -> browser bench -> report (FORCE=1: rerun every stage)
	@flock -n .pipeline.lock true || echo "pipeline: another make pipeline is running in this folder; waiting for it to finish (lock .pipeline.lock)"
	@flock .pipeline.lock $(MAKE) --no-print-directory -j2 pipeline-steps

pipeline-steps: system-pipeline report

REPORT_HTML ?= reports/latency_report.html
SCREENSHOT  ?= docs/images/report-first-screen.png

screenshot: web  ## the README's picture: the first screen (1400x900) of REPORT_HTML in headless Chromium -> docs/images/
	@test -f $(REPORT_HTML) || { echo "error: $(REPORT_HTML) not found: run \`make report\` first (or pass REPORT_HTML=...)" >&2; exit 2; }
	@mkdir -p $(dir $(SCREENSHOT))
	node tools/report_page.mjs screenshot $(REPORT_HTML) $(SCREENSHOT) --width 1400 --height 900

# javac, mvn and aapt2 (Debian's aapt) come with system-test. Maven keeps its downloads in ~/.m2
# (Robolectric's Android 15 framework for the MainActivity tests among them: ~0.5 GB once), so later
# runs (and CI on the same machine) reuse them. Two runs at once take turns on the build folder.
android-check: system-test  ## compile every Android source against the real jars from Maven Central, check the manifest with aapt2
	bash mobile_demo/android/check.sh compile

# The set-up runs two make jobs at a time (the venv beside the Android check and the ARM64 set-up),
# then pytest runs on TEST_WORKERS pytest-xdist workers, one per core here; tests/conftest.py
# WORKER_GROUPS says which tests share a worker. TEST_WORKERS=0: one process, no workers.
TEST_WORKERS ?= 2

test:  ## run every test: the Android compile check, then pytest (Python, the JUnit suite and MainActivity under Robolectric via Maven, browser, cross-language)
	@$(MAKE) --no-print-directory -j2 test-setup
	DATA_DIR=$(DATA_DIR) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

test-setup: system-test android-check venv web data

bench: venv data  ## check the speed, size and accuracy targets from one measured run -> reports/bench/bench.json
	DATA_DIR=$(DATA_DIR) $(PY) -m tools.bench

timing: venv  ## time the main job on fresh clones of HEAD: make pipeline, again, [runtime] changed, make test -> reports/timing/
	$(PY) -m tools.timing --test true

config-reference: venv  ## regenerate the README's config reference from the stage dataclasses
	$(PY) -m tools.config_reference --write

# runtime/targets/arm64_runs.py reads the same folder (its CACHE)
ARM64_CACHE := .cache/arm64

.PHONY: arm64
arm64: venv | system-pipeline  ## set up the arm64 target (qemu-user, arm64 userland, aarch64 wheels, runner, counting plugin) -> .cache/arm64
	bash native/arm64/setup.sh $(PY) $(ARM64_CACHE)

# The report's arm64 rows and tests/runtime/test_arm64.py run on that set-up.
report test-setup: arm64

clean:  ## remove outputs (keeps .venv and data)
	rm -rf checkpoints artifacts artifacts-runs reports .artifacts.stage.json .artifacts.stage.json.lock
