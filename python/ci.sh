#!/usr/bin/env bash
# Builds the Python package elf_resilience into a venv and runs its tests.
# Run from the repository root; needs Rust, CPython >= 3.9 and access to PyPI.
set -euo pipefail

root=$(pwd)
python=${PYTHON:-python3}
venv=${ELF_PY_VENV:-$root/target/py-venv}
# The workspace's target dir: the core crates are built once for cargo and maturin alike.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "maturin>=1.7,<2" "pytest>=7"
# An editable install from a debug build: the fastest to build, and what the tests need.
(cd python && VIRTUAL_ENV=$venv PATH=$venv/bin:$PATH "$venv/bin/maturin" develop --quiet)
"$venv/bin/python" -m pytest python/tests -q -p no:cacheprovider
