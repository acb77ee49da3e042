"""googlenet.memory: glibc's allocator is tuned where it exists and left alone elsewhere; heavy events trim."""

from __future__ import annotations

import sys

import numpy as np
import psutil
import pytest

from googlenet import memory


@pytest.mark.skipif(memory.glibc() is None, reason="not glibc (macOS, Windows, musl): nothing to tune")
def test_malloc_trim_returns_freed_heap_memory_to_the_os():
    process = psutil.Process()
    # Blocks of 64 kB (below glibc's 128 kB mmap threshold) come from the heap: 6,000 of them are ~380 MB.
    blocks = [np.ones(8_000, dtype=np.float64) for _ in range(6_000)]
    del blocks[:-1]  # the last block stays alive above the freed ones, so free() alone cannot shrink the heap
    before = process.memory_info().rss
    assert memory.release_free_memory() is True
    after = process.memory_info().rss
    assert before - after > 150 * 2**20  # most of it back to the OS


def test_limits_are_checked_and_absent_allocators_are_a_no_op(monkeypatch):
    with pytest.raises(ValueError):
        memory.limit_arenas(0)
    monkeypatch.setattr(memory, "glibc", lambda: None)
    assert memory.limit_arenas(2) is False and memory.release_free_memory() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc is a Linux library")
def test_glibc_is_found_on_linux_with_glibc():
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("this Linux does not use glibc")
    assert memory.glibc() is not None
    assert memory.limit_arenas(4) is True


@pytest.mark.skipif(memory.glibc() is None, reason="not glibc: nothing to trim")
def test_release_soon_trims_on_a_background_thread(monkeypatch):
    import threading

    done = threading.Event()
    monkeypatch.setattr(memory, "release_free_memory", lambda: done.set() or True)
    memory.release_free_memory_soon()
    assert done.wait(5.0)
    assert any(t.name == "malloc-trim" and t.daemon for t in threading.enumerate())
