"""The live camera (Live tab), driven through the browser's own protocol (bench/live_stream.py) against a launched
app: each viewer sends a 640x480 JPEG frame, waits for its answer and sends the next on the next tick of the
webcam's timer (``stream_every``), as the page's webcam does.

- 1 viewer, top-5 alone: updates per second (target >= 8) and frame-to-label latency (frame sent to its label
  received; target p50 < 250 ms);
- 4 viewers at once: each one's updates per second, frames skipped (answered "busy" at once) and latency; the
  gate lets one frame run at a time on a CPU, so each viewer gets fewer updates and no one's latency grows;
- 1 viewer with the branch-share strip on.
Also the per-frame preprocessing in this process: the torch-only array path vs the PIL path, same frame.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any, Optional

from bench.launcher import launched_app
from bench.sections.common import PHOTOS, Plan, log

TARGETS = {"updates_per_s": 8.0, "latency_p50_ms": 250.0}


def _percentile(values: list[float], q: float) -> Optional[float]:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def _viewer_stats(viewer: Any, seconds: float) -> dict[str, Any]:
    labelled = [a for a in viewer.answers if a.labelled]
    latencies = [a.latency_s for a in labelled if a.latency_s is not None]
    ms = (lambda v: None if v is None else round(v * 1000, 1))
    return {"updates": len(labelled), "skipped": len(viewer.answers) - len(labelled), "sent": viewer.sent,
            "updates_per_s": round(len(labelled) / seconds, 2),
            "latency_p50_ms": ms(_percentile(latencies, 50)), "latency_p95_ms": ms(_percentile(latencies, 95)),
            "latency_max_ms": ms(max(latencies) if latencies else None)}


def _run_viewers(url: str, fn_index: int, frames: list[bytes], viewers: int, seconds: float, strip: bool,
                 every_s: float) -> list[dict[str, Any]]:
    import httpx

    from bench.live_stream import LiveViewer

    people = [LiveViewer(url, fn_index, [strip, None, None]) for _ in range(viewers)]
    clients = [httpx.Client(timeout=60) for _ in people]
    threads = [threading.Thread(target=v.run_like_a_browser, args=(c, frames, seconds, every_s), daemon=True)
               for v, c in zip(people, clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    for v, c in zip(people, clients):
        v.close(c)
        c.close()
    return [_viewer_stats(v, seconds) for v in people]


def _preprocessing(frame: bytes, runs: int) -> dict[str, Any]:
    import io

    import numpy as np
    from PIL import Image

    from googlenet.transforms import array_to_tensor, preprocess

    image = Image.open(io.BytesIO(frame)).convert("RGB")
    rgb = np.asarray(image)
    times: dict[str, list[float]] = {"torch array path": [], "PIL path (crop + to_tensor)": []}
    for k in range(runs + 2):
        for name, fn in (("torch array path", lambda: array_to_tensor(rgb)),
                         ("PIL path (crop + to_tensor)", lambda: preprocess(image))):
            start = time.perf_counter()
            fn()
            if k >= 2:
                times[name].append(time.perf_counter() - start)
    return {"frame": f"{image.width}x{image.height} JPEG",
            **{name: round(statistics.median(t) * 1000, 2) for name, t in times.items()}}


def live_section(weights: Optional[Path], device: Optional[str], plan: Plan, work: Path) -> dict:
    try:
        import httpx

        from bench.live_stream import jpeg_frame, live_fn_index
        from webui.tabs.live import STREAM_EVERY_S
    except ImportError as exc:
        return {"available": False, "reason": f"{exc}"}
    seconds = 4.0 if plan.quick else 15.0
    frames = [jpeg_frame(p) for p in PHOTOS]
    with launched_app(work, weights, device=device, isolated=False) as server:
        fn_index = live_fn_index(httpx.get(server.url + "config").json())
        _run_viewers(server.url, fn_index, frames, 1, 1.0, False, STREAM_EVERY_S)  # warm-up
        one = _run_viewers(server.url, fn_index, frames, 1, seconds, False, STREAM_EVERY_S)[0]
        log.info("live, 1 viewer: %s", one)
        four = _run_viewers(server.url, fn_index, frames, 4, seconds, False, STREAM_EVERY_S)
        log.info("live, 4 viewers: %s", four)
        strip = _run_viewers(server.url, fn_index, frames, 1, seconds, True, STREAM_EVERY_S)[0]
        log.info("live, 1 viewer with the strip: %s", strip)
    met = {"updates_per_s": one["updates_per_s"] >= TARGETS["updates_per_s"],
           "latency_p50_ms": one["latency_p50_ms"] is not None and one["latency_p50_ms"] < TARGETS["latency_p50_ms"]}
    return {"available": True, "seconds": seconds, "stream_every_s": STREAM_EVERY_S, "targets": TARGETS, "met": met,
            "one_viewer": one, "four_viewers": four, "one_viewer_strip": strip,
            "preprocessing_ms": _preprocessing(frames[0], 10 if plan.quick else 50)}
