#!/usr/bin/env bash
# The Python environment of the training tests: a venv under the test cache with requirements.txt installed, once
# per machine. A stamp holding the requirements' hash and the interpreter's version makes a second call a no-op;
# a changed requirements file builds it again. Prints the venv's python as its last line.
#   SVD_TEST_VENV   where the venv lives (default: <repo>/.test-cache/python-venv)
#   SVD_PYTHON      the interpreter that makes it (default: python3)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${SVD_TEST_VENV:-$root/.test-cache/python-venv}"
python="${SVD_PYTHON:-python3}"
requirements="$root/test/python/requirements.txt"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "venv.sh: $python not found: install Python 3.10 or later" >&2
  exit 3
fi

mkdir -p "$(dirname "$venv")"
# Two suites starting at once build it once.
exec 9>"$venv.lock"
flock 9

want="$(sha256sum "$requirements" | cut -d' ' -f1) $("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/python"
  exit 0
fi

rm -rf "$venv"
"$python" -m venv "$venv"
# pip reaches only the machine's package stores: a missing wheel fails at once instead of retrying a network.
echo "venv.sh: installing test/python/requirements.txt into $venv (once)" >&2
if ! "$venv/bin/python" -m pip install --retries 0 --no-input --disable-pip-version-check -q -r "$requirements" >"$venv.log" 2>&1; then
  grep -v 'is ignored: it is neither a file nor a directory' "$venv.log" >&2 || true
  echo "venv.sh: pip failed (log: $venv.log)" >&2
  exit 1
fi
echo "$want" >"$venv/.stamp"
echo "$venv/bin/python"
