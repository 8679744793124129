"""Benchmarks (speed, memory) and the model-quality report; see ``python -m bench --help`` and bench/results.md."""
