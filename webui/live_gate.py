"""The live camera's admission rule: a frame that arrives while the frames allowed at once are being classified is
dropped at once (newest wins), never queued; and the counters that show it (received, classified, dropped).

Why a rule of our own: Gradio's stream event (``gradio/queueing.py``) keeps ONE pending chunk per stream (a newer
chunk posted to ``/stream/{event_id}`` replaces the waiting one) and the browser's webcam takes no new frame while its
previous one is pending, so one viewer never builds a queue. Several viewers, though, each have a stream of their
own, all running at once (the stream event has no concurrency limit: a stream holds its slot for as long as the
camera is on); without a gate their frames would all run together and every viewer's latency would grow with the
number of viewers. The gate lets ``limit`` frames run at once (one on a CPU, whose forward already uses every core:
``Limits.live``) and answers the others with "skipped" at once: each viewer gets fewer updates, none waits longer.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Iterator

__all__ = ["LiveCounts", "LiveGate"]


@dataclass(frozen=True)
class LiveCounts:
    """What the live endpoint has seen since the server started (all viewers together)."""

    received: int  # frames that reached the live endpoint (paused ones not counted)
    classified: int  # frames that got an answer
    dropped: int  # frames turned away because the allowed number were already running
    running: int  # frames being classified right now (never above the gate's limit)
    max_running: int  # the most that ever ran at once


class LiveGate:
    """A non-blocking semaphore with counters. Thread-safe; shared by every viewer of one app."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the live gate must let at least one frame through")
        self.limit = limit
        self._lock = threading.Lock()
        self._received = self._classified = self._dropped = self._running = self._max_running = 0

    @contextlib.contextmanager
    def admit(self) -> Iterator[bool]:
        """``with gate.admit() as admitted:`` True: classify this frame (the slot is freed on exit); False: drop it
        (another frame is running), answer at once."""
        with self._lock:
            self._received += 1
            admitted = self._running < self.limit
            if admitted:
                self._running += 1
                self._max_running = max(self._max_running, self._running)
            else:
                self._dropped += 1
        if not admitted:
            yield False
            return
        try:
            yield True
        finally:
            with self._lock:
                self._running -= 1

    def classified(self) -> None:
        with self._lock:
            self._classified += 1

    def counts(self) -> LiveCounts:
        with self._lock:
            return LiveCounts(self._received, self._classified, self._dropped, self._running, self._max_running)
