"""Free C heap goes back to the system where a worker has just freed a lot: once its app is built, and at the end of a
CSV export (issue 8: ≤ 100 MB a worker after the bench, export included)."""

import ctypes

import pytest

from backoffice_common import memory


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(memory._TRIM is None, reason="malloc_trim is glibc's")
def test_freed_heap_goes_back_to_the_system():
    # Pieces over pymalloc's 512 bytes come from malloc's heap: freed, glibc keeps the pages (what an export's
    # batches left behind) until trimmed.
    pieces = [bytes(2000) for _ in range(20_000)]  # ~40 MB
    keep = pieces[-1]
    grown = _rss_mb()
    del pieces
    freed = _rss_mb()
    memory.give_back_free_memory()
    trimmed = _rss_mb()
    assert freed - trimmed > 10, (grown, freed, trimmed)
    assert keep == bytes(2000)


def test_without_glibc_there_is_nothing_to_call(monkeypatch):
    monkeypatch.setattr(ctypes, "CDLL", lambda name: object())  # a C library without malloc_trim (musl)
    assert memory._malloc_trim() is None
    monkeypatch.setattr(memory, "_TRIM", None)
    memory.give_back_free_memory()  # and then a no-op, not an error
