"""The page's first answers, by the photo's content: one forward pass per upload, whichever request asks first.

A photo picked on the page reaches the server twice: the quick path (``ClassifyTab.quick_top5``, the photo's bytes in
one direct request, answered without Gradio's queue) and the queued change event (Gradio's own upload of the same
bytes). Both ask :class:`FirstAnswers` for the photo's digest: the first computes, the other waits for that result
(or gets it at once), so the two never run the model twice or compete for the CPU.

The quick path bypasses Gradio's queue and its concurrency limits, so it only starts work when a slot is free
(``slots``: ``Limits.quick``); otherwise it gives up at once and the queued event answers as before.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generic, Optional, TypeVar

__all__ = ["FirstAnswers", "FirstAnswerCounts", "digest_of_bytes", "digest_of_file"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_CHUNK = 1 << 20


def digest_of_bytes(data: bytes) -> str:
    """The key of a photo sent as bytes (the quick path)."""
    return hashlib.sha256(data).hexdigest()


def digest_of_file(path: str | Path) -> Optional[str]:
    """The key of a photo in Gradio's cache (the queued event): the same digest as its bytes. None when the file
    cannot be read (the engine, reading it next, says why in the reader's language)."""
    sha = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                sha.update(chunk)
    except OSError as exc:
        log.debug("no digest for %s: %s", path, exc)
        return None
    return sha.hexdigest()


@dataclass(frozen=True)
class FirstAnswerCounts:
    """What the cache has done since the server started."""

    computed: int  # results computed (each one forward pass)
    shared: int  # requests answered with a result another request computed or was computing
    busy: int  # quick requests that found no free slot and left the answer to the queued event
    running: int  # computations running now
    max_running_quick: int  # the most quick computations that ever ran at once (never above ``slots``)


@dataclass
class _Entry(Generic[T]):
    future: "Future[T]"
    created: float


class FirstAnswers(Generic[T]):
    """A small, thread-safe, single-flight cache of results by digest (one instance per app, shared by all users:
    a result is only found by a request that has the same bytes)."""

    def __init__(self, slots: int, capacity: int = 16, ttl_s: float = 60.0) -> None:
        if slots < 1 or capacity < 1:
            raise ValueError("FirstAnswers needs at least one slot and one entry")
        self.slots, self.capacity, self.ttl_s = slots, capacity, ttl_s
        self._lock = threading.Lock()
        self._entries: "OrderedDict[str, _Entry[T]]" = OrderedDict()
        self._quick_running = 0
        self._computed = self._shared = self._busy = self._running = self._max_quick = 0

    def counts(self) -> FirstAnswerCounts:
        with self._lock:
            return FirstAnswerCounts(self._computed, self._shared, self._busy, self._running, self._max_quick)

    def _prune(self, now: float) -> None:
        # finished entries past their time go; running ones stay (someone waits on them)
        for key in [k for k, e in self._entries.items() if e.future.done() and now - e.created > self.ttl_s]:
            del self._entries[key]
        while len(self._entries) > self.capacity:
            oldest = next((k for k, e in self._entries.items() if e.future.done()), None)
            if oldest is None:
                break
            del self._entries[oldest]

    def get(self, key: Optional[str], compute: Callable[[], T], *, quick: bool = False) -> Optional[T]:
        """The result for ``key``: the one already computed or being computed, else ``compute()`` now (``key`` None:
        nothing to share, so just ``compute()``).

        ``quick=True`` (the request that bypasses the queue): computes only if one of ``slots`` is free, else
        returns None at once. An error from ``compute`` reaches every request waiting for that key, and the key is
        forgotten (a later request computes again)."""
        if key is None:
            return None if quick else compute()
        now = time.monotonic()
        owner = False
        with self._lock:
            self._prune(now)
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self._shared += 1
            elif quick and self._quick_running >= self.slots:
                self._busy += 1
                return None
            else:
                entry = _Entry(Future(), now)
                self._entries[key] = entry
                self._running += 1
                if quick:
                    self._quick_running += 1
                    self._max_quick = max(self._max_quick, self._quick_running)
                owner = True
        if not owner:
            return entry.future.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                self._entries.pop(key, None)
            entry.future.set_exception(exc)
            raise
        else:
            entry.future.set_result(value)
            with self._lock:
                self._computed += 1
            return value
        finally:
            with self._lock:
                self._running -= 1
                if quick:
                    self._quick_running -= 1
