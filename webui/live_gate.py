"""The live camera's admission rule: a frame that arrives while the frames allowed at once are being classified is
dropped at once (newest wins), never queued; and the counters that show it (received, classified, dropped).

Why a rule of our own: Gradio's stream event (``gradio/queueing.py``) keeps ONE pending chunk per stream (a newer
chunk posted to ``/stream/{event_id}`` replaces the waiting one) and the browser's webcam takes no new frame while its
previous one is pending, so one viewer never builds a queue. Several viewers, though, each have a stream of their
own, all running at once (the stream event has no concurrency limit: a stream holds its slot for as long as the
camera is on); without a gate their frames would all run together and every viewer's latency would grow with the
number of viewers. The gate lets ``limit`` frames run at once (one on a CPU, whose forward already uses every core:
``Limits.live``) and answers the others with "skipped" at once: each viewer gets fewer updates, none waits longer.

Turns: dropping alone is unfair. Every webcam sends on its own 100 ms timer, so a viewer whose ticks fall while
another's frame runs loses every time (measured: two of four viewers got no update at all in 4 s). So a free slot
goes to the viewer served longest ago among those that were turned away since their last answer ("waiting"); a frame
from anyone else is dropped too, and the waiting viewer's next frame (within one tick) gets the slot. Viewers not
heard from for ``forget_s`` lose their claim (a closed tab must not hold the others back).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Iterator

__all__ = ["LiveCounts", "LiveGate"]


@dataclass(frozen=True)
class LiveCounts:
    """What the live endpoint has seen since the server started (all viewers together)."""

    received: int  # frames that reached the live endpoint (paused ones not counted)
    classified: int  # frames that got an answer
    dropped: int  # frames turned away: the allowed number were already running, or it was another viewer's turn
    running: int  # frames being classified right now (never above the gate's limit)
    max_running: int  # the most that ever ran at once


class LiveGate:
    """A non-blocking semaphore with counters. Thread-safe; shared by every viewer of one app."""

    def __init__(self, limit: int, forget_s: float = 1.0) -> None:
        if limit < 1:
            raise ValueError("the live gate must let at least one frame through")
        self.limit = limit
        self.forget_s = forget_s
        self._lock = threading.Lock()
        self._received = self._classified = self._dropped = self._running = self._max_running = 0
        self._viewers: dict[str, _Viewer] = {}

    def _turn_of_another(self, viewer: str, now: float) -> bool:
        """Another viewer, turned away since its last answer, was served before this one: it goes first."""
        mine = self._viewers[viewer].served
        return any(v.waiting and v.served < mine for key, v in self._viewers.items() if key != viewer)

    @contextlib.contextmanager
    def admit(self, viewer: str = "") -> Iterator[bool]:
        """``with gate.admit(viewer) as admitted:`` True: classify this frame (the slot is freed on exit); False:
        drop it (no slot free, or another viewer's turn), answer at once. ``viewer``: one id per camera stream."""
        now = time.monotonic()
        with self._lock:
            self._received += 1
            for key in [k for k, v in self._viewers.items() if now - v.seen > self.forget_s]:
                del self._viewers[key]
            state = self._viewers.setdefault(viewer, _Viewer(seen=now, served=float("-inf")))
            state.seen = now
            admitted = self._running < self.limit and not self._turn_of_another(viewer, now)
            if admitted:
                self._running += 1
                self._max_running = max(self._max_running, self._running)
                state.served, state.waiting = now, False
            else:
                self._dropped += 1
                state.waiting = True
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


@dataclass
class _Viewer:
    seen: float  # when its last frame arrived
    served: float  # when its last admitted frame started
    waiting: bool = False  # turned away since then
