"""NumPy's BLAS held to one thread while the decoder runs: small matrices, and a training often beside it.

The decoder's matrices are small, and on the 2-core machines the studio runs on, a training
often runs beside it: multithreaded OpenBLAS then spin-waits for a busy core, and batched
generation ran about 10x slower (bench/results.md: 1 thread ~2,000 vs ~190 progressions/s at
batch 256 with a training running). One thread costs nothing at the page's batch sizes.
"""

from __future__ import annotations

import contextlib
import functools


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, BLAS keeps its own threading
        return None
    return ThreadpoolController()


def one_blas_thread() -> contextlib.AbstractContextManager:
    """Limit NumPy's BLAS to one thread for the block (about 0.1 ms to enter; see the module docstring)."""
    controller = _blas_controller()
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")
