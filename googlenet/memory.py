"""Keeping the serving process's resident memory bounded (glibc's allocator, Linux).

Why this exists: PyTorch's CPU tensors come from ``malloc``. glibc gives every thread that allocates its own arena
(up to 8 per core), and memory freed in an arena stays mapped to the process until the arena's top is free. A Gradio
server runs each request in a worker thread, so after a burst of attributions (hundreds of MB of activations each)
the process kept ~2.8 GB resident although the live tensors were a fraction of it. Two remedies, both no-ops where
they do not apply (macOS, Windows, musl):

- :func:`limit_arenas`: at most ``n`` arenas, so threads reuse each other's freed memory;
- :func:`release_free_memory`: ``malloc_trim(0)``, which returns free pages of every arena to the OS;
  :func:`release_free_memory_soon` runs it on a background thread after requests that allocate a lot, so that the
  trim (about 40 ms after an attribution) does not delay the answer. Several requests in a row cost one trim.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import threading
from functools import lru_cache
from typing import Optional

__all__ = ["limit_arenas", "release_free_memory", "release_free_memory_soon", "glibc"]

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # from glibc's malloc.h
_trim_lock = threading.Lock()


@lru_cache(maxsize=1)
def glibc() -> Optional[ctypes.CDLL]:
    """The C library when it is glibc (it has ``mallopt`` and ``malloc_trim``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it (musl does not)
        libc.malloc_trim  # noqa: B018
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(n: int = 2) -> bool:
    """Cap glibc's malloc arenas at ``n`` for threads that allocate from now on; True if it was applied."""
    if n < 1:
        raise ValueError("at least one arena")
    libc = glibc()
    if libc is None:
        return False
    applied = bool(libc.mallopt(_M_ARENA_MAX, n))
    log.info("malloc arenas capped at %d: %s", n, applied)
    return applied


def release_free_memory() -> bool:
    """Give memory that malloc holds but nothing uses back to the OS (``malloc_trim(0)``); True if any was."""
    libc = glibc()
    if libc is None:
        return False
    with _trim_lock:  # one trim at a time: concurrent trims only contend for the same arena locks
        return bool(libc.malloc_trim(0))


_wanted = threading.Event()
_trimmer: Optional[threading.Thread] = None
_trimmer_lock = threading.Lock()


def _trim_forever() -> None:
    while True:
        _wanted.wait()
        _wanted.clear()  # requests arriving during the trim ask for one more
        try:
            release_free_memory()
        except Exception:  # noqa: BLE001 - a failed trim must not kill the thread; it is logged, not swallowed
            log.exception("malloc_trim failed")


def release_free_memory_soon() -> None:
    """Ask the background trimmer for a :func:`release_free_memory` (returns at once; coalesces requests)."""
    global _trimmer
    if glibc() is None:
        return
    with _trimmer_lock:
        if _trimmer is None:
            _trimmer = threading.Thread(target=_trim_forever, name="malloc-trim", daemon=True)
            _trimmer.start()
    _wanted.set()
