#!/usr/bin/env bash
# Set up (first time, with the development packages) and run the test suite in the project's
# environment: unit, page (AppTest) and browser tests. pytest options pass through: ./test.sh -x -q tests/test_chords.py
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh --dev
exec .venv/bin/python -m pytest "$@"
