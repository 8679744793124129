#!/usr/bin/env bash
# Set up (first time) and run the whole test suite: unit, page (AppTest) and browser tests.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec "${PYTHON:-python3}" -m pytest "$@"
