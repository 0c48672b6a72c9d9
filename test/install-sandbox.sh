#!/usr/bin/env bash
# Installs bubblewrap (Debian's `bubblewrap`), the isolator the code checks run in, when it is missing.
# Idempotent: a no-op where `bwrap` is on PATH. Without root or apt it says what to run and fails, since the
# sandbox tests must not pass by skipping.
set -euo pipefail
command -v bwrap >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # A fresh container has empty package lists: update only when the install cannot find the package.
  if ! apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
  fi
  echo "install-sandbox.sh: installed $(bwrap --version)"
  exit 0
fi
echo "install-sandbox.sh: bubblewrap (bwrap) is missing; as root: apt-get install -y bubblewrap" >&2
exit 1
