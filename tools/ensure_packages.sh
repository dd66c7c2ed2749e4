#!/usr/bin/env bash
# Install the Debian packages a make target needs, only those missing, so that `make pipeline` and
# `make test` are the only commands a newcomer runs.
#
# usage: tools/ensure_packages.sh PACKAGE[=PROBE] ...
#   PROBE is a command name (`nodejs=node`) or an absolute path (`junit4=/usr/share/java/junit4.jar`)
#   whose presence means the package's job is done (a tool installed some other way counts too);
#   without one, dpkg's own record decides.
# Missing packages are installed with apt-get as root, with `sudo -n` when that works without a
# password; otherwise one line names the exact command and the exit status is 1.
set -euo pipefail

missing=()
for spec in "$@"; do
  pkg="${spec%%=*}"
  probe=""
  [[ "$spec" == *=* ]] && probe="${spec#*=}"
  if [[ -n "$probe" ]]; then
    if [[ "$probe" == /* ]]; then [[ -e "$probe" ]] && continue
    else command -v "$probe" >/dev/null 2>&1 && continue
    fi
  elif dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    continue
  fi
  missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "error: missing Debian packages: ${missing[*]}; run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
command -v apt-get >/dev/null || {
  echo "error: missing packages ${missing[*]} and no apt-get on this machine; install them with its package manager" >&2
  exit 1
}
echo "installing Debian packages: ${missing[*]}"
# The package lists on a fresh machine are empty or old: refresh once, then install quietly.
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
