#!/usr/bin/env bash
# Set up (first time) and start the studio from the project's environment: http://127.0.0.1:8501
# Streamlit options pass through, e.g. ./run.sh --server.port 8600 (see README, Sharing the studio).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/python -m streamlit run app.py --server.address 127.0.0.1 "$@"
