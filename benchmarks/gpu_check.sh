#!/usr/bin/env bash
# The GPU check (see benchmarks/gpu_check.py and benchmarks/README.md): one GPU, under 8 minutes.
#   bash benchmarks/gpu_check.sh [MODEL] [--limit N] [--steps N] [--dry-run]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
exec timeout 480 "$PY" benchmarks/gpu_check.py "$@"
