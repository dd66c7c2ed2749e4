#!/usr/bin/env bash
# The ARM64 target's set-up, idempotent, everything under one ignored folder (default .cache/arm64):
#   rootfs/   an arm64 Debian 12 userland: the C and C++ runtime libraries the runners load
#             (debootstrap's first stage only: its packages are unpacked on the host with
#             dpkg-deb, so nothing runs under emulation)
#   wheels/   PyPI's aarch64 wheels of the executorch and onnxruntime versions in .venv
#   site/     the aarch64 onnxruntime wheel unpacked (its libonnxruntime)
#   et/       the aarch64 executorch wheel unpacked: its runtime libraries and headers
#   ort/      onnxruntime_c_api.h (the wheels ship ORT's library, not its header) and lib/, the
#             aarch64 libonnxruntime.so.1 the runner links
#   bin/      pte_runner and ort_runner (aarch64), insn_count.so (the host qemu's counting plugin)
#   ready     written last: what was set up (runtime/targets/arm64_setup.py); absent after a failure
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
# The ready marker says the set-up below finished: gone until it has (written as the last step).
rm -f "$CACHE/ready"

bash "$SRC/../../tools/ensure_packages.sh" qemu-user=qemu-aarch64 debootstrap=debootstrap \
  g++-aarch64-linux-gnu=aarch64-linux-gnu-g++ gcc=gcc

# 1. The userland. --foreign stops before anything runs inside it; the packages are then only
#    unpacked (maintainer scripts do nothing the runners need). ~1 min, ~30 MB download.
if [[ ! -e "$CACHE/rootfs/lib/ld-linux-aarch64.so.1" ]]; then
  echo "arm64: debootstrap (bookworm, arm64, minbase) from $MIRROR"
  [[ $(id -u) -eq 0 ]] || { echo "error: debootstrap needs root; run: sudo make arm64" >&2; exit 1; }
  rm -rf "$CACHE/rootfs.tmp"
  debootstrap --arch=arm64 --foreign --variant=minbase \
    bookworm "$CACHE/rootfs.tmp" "$MIRROR" > "$CACHE/debootstrap.log"
  for deb in "$CACHE"/rootfs.tmp/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$CACHE/rootfs.tmp"; done
  rm -rf "$CACHE"/rootfs.tmp/var/cache/apt/archives/*.deb "$CACHE/rootfs.tmp/debootstrap"
  mv "$CACHE/rootfs.tmp" "$CACHE/rootfs"
fi
# qemu-user 7.2 shows the guest the host's x86 /proc/cpuinfo, and onnxruntime's cpuinfo crashes
# parsing it. qemu -L looks a path up under the prefix first, so this file is what the guest reads.
cp "$SRC/cpuinfo" "$CACHE/rootfs/proc/cpuinfo"

# 2. The aarch64 wheels of exactly the versions the x86 side runs.
VERSIONS=$("$PY" -c "import importlib.metadata as m; print(' '.join(f'{p}=={m.version(p)}' for p in ('executorch', 'onnxruntime')))")
PLATFORM=(--only-binary=:all: --python-version 3.11 --implementation cp --platform manylinux_2_17_aarch64
          --platform manylinux_2_27_aarch64 --platform manylinux_2_28_aarch64 --platform manylinux_2_36_aarch64)
if [[ "$(cat "$CACHE/versions.txt" 2>/dev/null)" != "$VERSIONS" ]]; then
  echo "arm64: aarch64 wheels $VERSIONS"
  rm -rf "$CACHE/wheels" "$CACHE/site" "$CACHE/et" "$CACHE/bin"
  # shellcheck disable=SC2086
  "$PY" -m pip download -q --no-deps "${PLATFORM[@]}" -d "$CACHE/wheels" $VERSIONS
  "$PY" -m pip install -q --no-deps --no-index --find-links "$CACHE/wheels" "${PLATFORM[@]}" \
    --target "$CACHE/site" "$(echo "$VERSIONS" | cut -d' ' -f2)"
  "$PY" -m pip install -q --no-deps --no-index --find-links "$CACHE/wheels" "${PLATFORM[@]}" \
    --target "$CACHE/et" "$(echo "$VERSIONS" | cut -d' ' -f1)"
  echo "$VERSIONS" > "$CACHE/versions.txt"
fi

# 3. ONNX Runtime's C API header. The Go module github.com/yalue/onnxruntime_go carries Microsoft's
#    onnxruntime_c_api.h (and the onnxruntime_ep_c_api.h it includes) unchanged, ORT_API_VERSION 24
#    (ORT 1.24; a newer library serves older API versions). The Go module proxy serves it where
#    GitHub's release downloads are out of reach; it is checked against a pinned sha256.
ORT_HEADER_ZIP=${ORT_HEADER_ZIP:-https://proxy.golang.org/github.com/yalue/onnxruntime_go/@v/v1.27.0.zip}
ORT_HEADER_SHA256=5b7c7e6878caa1f1bf5d5acc09bfdd9de4c2f1e1beee1ff5529570139c540cb0
if [[ ! -f "$CACHE/ort/include/onnxruntime_c_api.h" ]]; then
  echo "arm64: onnxruntime_c_api.h from $ORT_HEADER_ZIP"
  mkdir -p "$CACHE/ort/include"
  curl -fsSL --retry 3 -o "$CACHE/ort/header.zip" "$ORT_HEADER_ZIP"
  echo "$ORT_HEADER_SHA256  $CACHE/ort/header.zip" | sha256sum -c --quiet - \
    || { echo "error: $ORT_HEADER_ZIP does not match its pinned sha256; set ORT_HEADER_ZIP to a mirror of it" >&2; exit 1; }
  # onnxruntime_c_api.h includes onnxruntime_ep_c_api.h: both, written last when all is well.
  "$PY" - "$CACHE/ort/header.zip" "$CACHE/ort/include" <<'PY'
import pathlib, sys, zipfile
archive, out = zipfile.ZipFile(sys.argv[1]), pathlib.Path(sys.argv[2])
for header in ("onnxruntime_ep_c_api.h", "onnxruntime_c_api.h"):
    (out / (header + ".tmp")).write_bytes(archive.read(next(n for n in archive.namelist() if n.endswith("/" + header))))
    (out / (header + ".tmp")).rename(out / header)
PY
  rm "$CACHE/ort/header.zip"
fi
# The wheel's library is named libonnxruntime.so.<version>; its SONAME is libonnxruntime.so.1.
mkdir -p "$CACHE/ort/lib"
ln -sfn "../../site/onnxruntime/capi/$(basename "$(ls "$CACHE"/site/onnxruntime/capi/libonnxruntime.so.1.*)")" \
  "$CACHE/ort/lib/libonnxruntime.so.1"

# 4. The runners and the plugin, rebuilt when a source is newer than the binary.
mkdir -p "$CACHE/bin"
ET="$CACHE/et/executorch"
newer() {  # newer BINARY SOURCE...: the binary is missing or older than a source
  local binary=$1 source; shift
  [[ -e "$binary" ]] || return 0
  for source in "$@"; do [[ "$source" -nt "$binary" ]] && return 0; done
  return 1
}
if newer "$CACHE/bin/pte_runner" "$SRC/pte_runner.cpp" "$SRC/protocol.h" "$SRC/markers.h"; then
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
if newer "$CACHE/bin/ort_runner" "$SRC/ort_runner.cpp" "$SRC/protocol.h" "$SRC/markers.h"; then
  echo "arm64: building ort_runner against $CACHE/ort"
  aarch64-linux-gnu-g++ -std=c++17 -O2 -Wall -I"$CACHE/ort/include" -I"$SRC" "$SRC/ort_runner.cpp" \
    -o "$CACHE/bin/ort_runner.tmp" -L"$CACHE/ort/lib" -l:libonnxruntime.so.1 -Wl,-rpath,'$ORIGIN/../ort/lib'
  mv "$CACHE/bin/ort_runner.tmp" "$CACHE/bin/ort_runner"
fi
if newer "$CACHE/bin/insn_count.so" "$SRC/insn_count.c" "$SRC/markers.h"; then
  echo "arm64: building the qemu plugin insn_count.so"
  gcc -std=c11 -O2 -Wall -Wextra -shared -fPIC -I"$SRC" "$SRC/insn_count.c" -o "$CACHE/bin/insn_count.so.tmp"
  mv "$CACHE/bin/insn_count.so.tmp" "$CACHE/bin/insn_count.so"
fi
# 5. The ready marker, last: the versions, the qemu and the sha256 of every file built and of the
#    sources, which the report checks before it uses the set-up (runtime/targets/arm64_setup.py).
"$PY" -P "$SRC/../../runtime/targets/arm64_setup.py" write "$CACHE"
