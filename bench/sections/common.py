"""What every section shares: the plan of a run (sizes and counts), the example photos, and how we time and
measure memory.

Timing is interleaved (round-robin over the candidates, median after warm-up) because the benchmark runs on shared
machines: load from other processes then hits every candidate alike. Memory of a step is the peak increase of the
process's RSS sampled with psutil, because tracemalloc does not see torch's allocations.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import psutil
import torch

from googlenet.inference import Engine

log = logging.getLogger("benchmark")
ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
PHOTOS = sorted(p for p in ASSETS.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Plan:
    """Sizes and counts of one run (full or quick)."""

    warmup: int
    runs: int
    batches: tuple[int, ...]
    attribution_size: int
    attribution_preset: str
    faithfulness_steps: Optional[int]
    endpoint_seconds: float  # per endpoint and concurrency level: no new request after this
    one_client_requests: int
    many_clients: int
    many_client_requests: int  # per client
    ig_steps: int  # the "IG with N steps" row (the target: 32)
    quick: bool


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(candidates: dict[str, Callable[[], Any]], warmup: int, runs: int, device: torch.device
                ) -> dict[str, float]:
    """Median seconds per call of each candidate, run round-robin so that load from other processes on a shared
    machine hits every candidate alike."""
    times: dict[str, list[float]] = {name: [] for name in candidates}
    with torch.inference_mode():
        for fn in candidates.values():
            for _ in range(warmup):
                fn()
            _sync(device)
        for _ in range(runs):
            for name, fn in candidates.items():
                start = time.perf_counter()
                fn()
                _sync(device)
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


class PeakRss(threading.Thread):
    """Peak RSS of this process above its value at start, sampled every ``interval`` seconds."""

    def __init__(self, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process()
        self.start_rss = self.process.memory_info().rss
        self.peak = self.start_rss
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, self.process.memory_info().rss)
        return self.peak - self.start_rss


def example_batch(engine: Engine) -> torch.Tensor:
    """The example photos, preprocessed: P x 3 x 224 x 224 on the engine's device."""
    return torch.cat([engine.prepare(p)[1] for p in PHOTOS])
