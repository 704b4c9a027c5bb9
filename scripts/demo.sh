#!/usr/bin/env bash
# Install hardcheck into .venv and audit the bundled insecure sample service.
# Exits with hardcheck's own exit code (1: findings at or above --fail-on).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check .
exec .venv/bin/hardcheck audit sample_configs/insecure-fastapi "$@"
