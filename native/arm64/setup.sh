#!/usr/bin/env bash
# The ARM64 target's set-up, idempotent, everything under one ignored folder (default .cache/arm64):
#   rootfs/   an arm64 Debian 12 userland with Python 3.11 (debootstrap's first stage only: its
#             packages are unpacked on the host with dpkg-deb, so nothing runs under emulation)
#   wheels/   PyPI's aarch64 wheels of the executorch, onnxruntime and numpy versions in .venv
#   site/     onnxruntime + numpy for the emulated Python
#   et/       the aarch64 executorch wheel unpacked: its runtime libraries and headers
#   bin/      pte_runner (aarch64) and insn_count.so (the host qemu's counting plugin)
# A step whose output exists is skipped; new versions in .venv re-fetch the wheels.
#
# usage: native/arm64/setup.sh PYTHON CACHE_DIR
set -euo pipefail
PY=${1:?usage: setup.sh PYTHON CACHE_DIR}
CACHE=${2:?usage: setup.sh PYTHON CACHE_DIR}
SRC=$(cd "$(dirname "$0")" && pwd)
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

bash "$SRC/../../tools/ensure_packages.sh" qemu-user=qemu-aarch64 debootstrap=debootstrap \
  g++-aarch64-linux-gnu=aarch64-linux-gnu-g++ gcc=gcc

# 1. The userland. --foreign stops before anything runs inside it; the packages are then only
#    unpacked (maintainer scripts do nothing a Python interpreter needs). ~1 min, ~40 MB download.
if [[ ! -x "$CACHE/rootfs/usr/bin/python3.11" ]]; then
  echo "arm64: debootstrap (bookworm, arm64, minbase + python3.11) from $MIRROR"
  [[ $(id -u) -eq 0 ]] || { echo "error: debootstrap needs root; run: sudo make arm64" >&2; exit 1; }
  rm -rf "$CACHE/rootfs.tmp"
  debootstrap --arch=arm64 --foreign --variant=minbase --include=python3.11-minimal,libpython3.11-stdlib \
    bookworm "$CACHE/rootfs.tmp" "$MIRROR" > "$CACHE/debootstrap.log"
  for deb in "$CACHE"/rootfs.tmp/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$CACHE/rootfs.tmp"; done
  rm -rf "$CACHE"/rootfs.tmp/var/cache/apt/archives/*.deb "$CACHE/rootfs.tmp/debootstrap"
  # qemu-user 7.2 shows the guest the host's x86 /proc/cpuinfo, and onnxruntime's cpuinfo crashes
  # parsing it. qemu -L looks a path up under the prefix first, so this file is what the guest reads.
  cp "$SRC/cpuinfo" "$CACHE/rootfs.tmp/proc/cpuinfo"
  # The stdlib's bytecode, compiled on the host (same CPython 3.11 bytecode), spares each emulated
  # start-up a compile.
  python3 -m compileall -q -j 0 "$CACHE/rootfs.tmp/usr/lib/python3.11" > /dev/null || true
  mv "$CACHE/rootfs.tmp" "$CACHE/rootfs"
fi

# 2. The aarch64 wheels of exactly the versions the x86 side runs.
VERSIONS=$("$PY" -c "import importlib.metadata as m; print(' '.join(f'{p}=={m.version(p)}' for p in ('executorch', 'onnxruntime', 'numpy')))")
PLATFORM=(--only-binary=:all: --python-version 3.11 --implementation cp --platform manylinux_2_17_aarch64
          --platform manylinux_2_27_aarch64 --platform manylinux_2_28_aarch64 --platform manylinux_2_36_aarch64)
if [[ "$(cat "$CACHE/versions.txt" 2>/dev/null)" != "$VERSIONS" ]]; then
  echo "arm64: aarch64 wheels $VERSIONS"
  rm -rf "$CACHE/wheels" "$CACHE/site" "$CACHE/et" "$CACHE/bin"
  # shellcheck disable=SC2086
  "$PY" -m pip download -q --no-deps "${PLATFORM[@]}" -d "$CACHE/wheels" $VERSIONS
  "$PY" -m pip install -q --no-deps --no-index --find-links "$CACHE/wheels" "${PLATFORM[@]}" \
    --target "$CACHE/site" "$(echo "$VERSIONS" | cut -d' ' -f2)" "$(echo "$VERSIONS" | cut -d' ' -f3)"
  "$PY" -m pip install -q --no-deps --no-index --find-links "$CACHE/wheels" "${PLATFORM[@]}" \
    --target "$CACHE/et" "$(echo "$VERSIONS" | cut -d' ' -f1)"
  echo "$VERSIONS" > "$CACHE/versions.txt"
fi

# 3. The runner and the plugin, rebuilt when a source is newer than the binary.
mkdir -p "$CACHE/bin"
ET="$CACHE/et/executorch"
if [[ ! -x "$CACHE/bin/pte_runner" || "$SRC/pte_runner.cpp" -nt "$CACHE/bin/pte_runner" || "$SRC/markers.h" -nt "$CACHE/bin/pte_runner" ]]; then
  echo "arm64: building pte_runner against $ET"
  # Defines and include dirs as the wheel's lib/cmake/executorch/executorch-config.cmake states them.
  # --no-as-needed keeps the kernel libraries, which register their operators when loaded.
  aarch64-linux-gnu-g++ -std=c++17 -O2 -Wall -Wno-deprecated-declarations \
    -DC10_USING_CUSTOM_GENERATED_MACROS -DET_EVENT_TRACER_ENABLED -DET_USE_THREADPOOL \
    -I"$ET/include" -I"$ET/include/executorch/runtime/core/portable_type/c10" -I"$SRC" \
    "$SRC/pte_runner.cpp" -o "$CACHE/bin/pte_runner.tmp" -L"$ET/lib" -Wl,--no-as-needed \
    -lexecutorch -lexecutorch_backend_xnnpack -lexecutorch_kernels_optimized -lexecutorch_kernels_quantized \
    -lexecutorch_threadpool -Wl,--as-needed -Wl,-rpath,'$ORIGIN/../et/executorch/lib'
  mv "$CACHE/bin/pte_runner.tmp" "$CACHE/bin/pte_runner"
fi
if [[ ! -f "$CACHE/bin/insn_count.so" || "$SRC/insn_count.c" -nt "$CACHE/bin/insn_count.so" || "$SRC/markers.h" -nt "$CACHE/bin/insn_count.so" ]]; then
  echo "arm64: building the qemu plugin insn_count.so"
  gcc -std=c11 -O2 -Wall -Wextra -shared -fPIC -I"$SRC" "$SRC/insn_count.c" -o "$CACHE/bin/insn_count.so.tmp"
  mv "$CACHE/bin/insn_count.so.tmp" "$CACHE/bin/insn_count.so"
fi
cp "$SRC/ort_runner.py" "$CACHE/bin/ort_runner.py"
touch "$CACHE/ready"
