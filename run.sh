#!/usr/bin/env bash
# Set up (first time) and start the studio: http://127.0.0.1:8501
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec "${PYTHON:-python3}" -m streamlit run app.py --server.address 127.0.0.1 "$@"
