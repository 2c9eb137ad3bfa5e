"""Giving the C heap's free pages back to the system (issue 8: each worker ≤ 100 MB RSS).

glibc keeps the heap it freed for later allocations; pages freed in the middle of the heap stay resident until
``malloc_trim`` hands them back. Called where a worker has just freed a lot: once the app is built (gunicorn's
``post_worker_init``: the imports' and the app factory's temporaries, ~1 MB a worker) and at the end of a CSV export
(its batches, ~6 MB).
"""

from __future__ import annotations

import ctypes


def _malloc_trim():
    try:
        trim = ctypes.CDLL(None).malloc_trim  # glibc's; absent from other C libraries (musl)
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def give_back_free_memory() -> None:
    """Hand the C heap's free pages back to the system. A no-op without glibc."""
    if _TRIM is not None:
        _TRIM(0)
