"""Bounded load test: N concurrent gradio_client users hammer every API endpoint with different images.

    python bench/load_test.py --weights PATH            # launches the app on 127.0.0.1, 16 clients, 30 s
    python bench/load_test.py --quick --weights PATH    # 3 s, 4 clients: correctness only (used by the tests)
    python bench/load_test.py --url http://127.0.0.1:7860/ --pid 12345   # an app you started (loopback only)

What it checks (exit status 1 if any fails):
- errors: every request succeeds (target: none);
- cross-talk: every response matches the result the same endpoint gave for the same image when asked alone,
  for endpoints with a ``signature`` in RECIPES (/classify: top-5 indices and probabilities);
- shared state: the engine's models are bit-identical before and after, still in eval mode, with no hooks
  (the app's /debug_model_fingerprint endpoint, which exists only when GOOGLENET_DEBUG_ENDPOINTS=1: the script
  sets it for the app it launches).
What it reports: requests served, errors, p50/p95 latency per endpoint, server RSS (after warm-up, peak, end,
growth) and the growth of Gradio's file cache.

Safety: it only ever talks to a loopback address, runs for a fixed time and stops by itself; an app it launched
is stopped on exit.

Endpoints are discovered with ``client.view_api()``: image inputs get the test images, other inputs their default
(or Gradio's example value). To give an endpoint specific arguments or a cross-talk signature, add a
:class:`Recipe` to RECIPES.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import random
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import psutil
from gradio_client import Client, handle_file
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: `python bench/load_test.py`

from bench.launcher import launched_app  # noqa: E402

ASSETS = ROOT / "assets"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
DEBUG_ENDPOINT = "/debug_model_fingerprint"
IMAGE_COMPONENTS = {"Image", "ImageEditor", "File", "AnnotatedImage"}


# ---------------------------------------------------------------------------------------------------------------
# Per-endpoint recipes
# ---------------------------------------------------------------------------------------------------------------


def classify_signature(result: Any) -> list[tuple[int, float]]:
    """/classify -> its top-5 as (class index, probability): what must not leak between users."""
    raw = result[3]
    return [(int(t["index"]), float(t["probability"])) for t in raw["top"]]


def close_enough(a: Any, b: Any, tolerance: float = 1e-4) -> bool:
    """Equal structure, numbers within ``tolerance`` (the same input must give the same answer)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(close_enough(x, y, tolerance) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), abs_tol=tolerance)
    return a == b


def file_signature(result: Any, index: int) -> str:
    """Helper for recipes: the sha256 of the decoded pixels of output ``index`` (an image file)."""
    value = result[index] if isinstance(result, (list, tuple)) else result
    path = value.get("path") if isinstance(value, dict) else value
    with Image.open(path) as image:
        return hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()


@dataclass(frozen=True)
class Recipe:
    """How to call one endpoint. ``args(image_path, api_info)`` -> positional arguments (None: generic);
    ``signature(result)`` -> what must equal the sequential answer for the same image (None: not checked);
    ``fresh_bytes``: send each request a copy of the image no request sent before (:func:`fresh_copy`), for the
    endpoints whose answers the app keeps by the photo's bytes (webui/first_answers.py), so that each request is
    computed and the run measures the computation, not the cache."""

    args: Optional[Callable[[str, dict], list]] = None
    signature: Optional[Callable[[Any], Any]] = None
    fresh_bytes: bool = False


def overriding(**values: Any) -> Callable[[str, dict], list]:
    """Arguments as in :func:`generic_args`, with the named parameters set to ``values``."""

    def args(image: str, info: dict) -> list:
        names = [p.get("parameter_name") for p in info.get("parameters", [])]
        generic = generic_args(image, info)
        return [values.get(name, value) for name, value in zip(names, generic)]

    return args


RECIPES: dict[str, Recipe] = {
    # as API clients call it: with_crop left at its default
    "/classify": Recipe(signature=classify_signature, fresh_bytes=True),
    "/top5": Recipe(fresh_bytes=True),
    # The sanity check re-runs its method for 11 randomised copies of the model: use the cheapest method so a
    # load run measures serving, not one long job. The other endpoints run with the page's defaults.
    "/sanity_check": Recipe(args=overriding(method="saliency")),
}


def generic_args(image: str, info: dict) -> list:
    """Arguments from the endpoint's description: our image for image inputs, else the default or Gradio's example."""
    args = []
    for parameter in info.get("parameters", []):
        if parameter.get("component") in IMAGE_COMPONENTS:
            args.append(handle_file(image))
        elif parameter.get("parameter_has_default"):
            args.append(parameter.get("parameter_default"))
        else:
            args.append(parameter.get("example_input"))
    return args


def fresh_copy(image: str) -> str:
    """A copy of ``image`` beside it whose bytes no request sent before: 16 random bytes after the image's end,
    which every decoder ignores (same pixels, so the same answer, but a new digest). The caller deletes it."""
    source = Path(image)
    copy = source.with_name(f"{source.stem}-{uuid.uuid4().hex[:12]}{source.suffix}")
    copy.write_bytes(source.read_bytes() + os.urandom(16))
    return str(copy)


@contextlib.contextmanager
def photo_for(endpoint: str, image: str) -> Iterator[str]:
    """The image to send to ``endpoint``: ``image`` itself, or a fresh copy (see :class:`Recipe`), removed after."""
    if not RECIPES.get(endpoint, Recipe()).fresh_bytes:
        yield image
        return
    copy = fresh_copy(image)
    try:
        yield copy
    finally:
        os.unlink(copy)


def takes_image(info: dict) -> bool:
    return any(p.get("component") in IMAGE_COMPONENTS for p in info.get("parameters", []))


# ---------------------------------------------------------------------------------------------------------------
# Test images
# ---------------------------------------------------------------------------------------------------------------


def make_images(folder: Path, count: int = 8) -> list[str]:
    """``count`` different images in several formats and sizes, from the example photos (crops, flips, formats)."""
    photos = sorted(p for p in ASSETS.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    if not photos:
        raise SystemExit(f"no example photos in {ASSETS}")
    variants: list[tuple[str, Callable[[Image.Image], Image.Image], dict]] = [
        ("jpg", lambda im: im, {"quality": 90}),
        ("png", lambda im: ImageOps.mirror(im), {}),
        ("webp", lambda im: im.crop((0, 0, im.width * 3 // 4, im.height * 3 // 4)), {}),
        ("png", lambda im: ImageOps.flip(im).convert("RGBA"), {}),
    ]
    paths = []
    for i in range(count):
        photo = photos[i % len(photos)]
        extension, change, options = variants[(i // len(photos)) % len(variants)]
        with Image.open(photo) as source:
            image = change(source.convert("RGB").resize((400 + 37 * i, 300 + 23 * i)))
        path = folder / f"load-{i:02d}-{photo.stem}.{extension}"
        image.save(path, **options)
        paths.append(str(path))
    return paths


# ---------------------------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------------------------


def require_loopback(url: str) -> None:
    host = urllib.parse.urlparse(url).hostname or ""
    if host not in LOOPBACK and host.strip("[]") not in LOOPBACK:
        raise SystemExit(f"refusing to load-test {url}: only loopback addresses (127.0.0.1, localhost, ::1)")


def rss_bytes(pid: Optional[int]) -> Optional[int]:
    """Resident memory of the server process and its children."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        return process.memory_info().rss + sum(c.memory_info().rss for c in process.children(recursive=True))
    except psutil.Error:
        return None


def folder_size(folder: Optional[Path]) -> Optional[tuple[int, int]]:
    if folder is None or not folder.exists():
        return None
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


class RssMonitor(threading.Thread):
    """Samples the server's RSS every ``interval`` seconds until stopped; keeps the peak."""

    def __init__(self, pid: Optional[int], interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = rss_bytes(pid) or 0
        self.samples: list[tuple[float, int]] = []  # (monotonic time, bytes)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            rss = rss_bytes(self.pid) or 0
            self.samples.append((time.monotonic(), rss))
            self.peak = max(self.peak, rss)

    def at(self, moment: float) -> Optional[int]:
        """The last sample taken at or before ``moment``."""
        earlier = [rss for t, rss in self.samples if t <= moment]
        return earlier[-1] if earlier else None

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


# ---------------------------------------------------------------------------------------------------------------
# The load
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class EndpointStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    crosstalk: int = 0
    checked: bool = False
    error_samples: list[str] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, math.ceil(q / 100.0 * len(ordered)) - 1))
    return ordered[rank]


def call(client: Client, endpoint: str, image: str, info: dict) -> Any:
    recipe = RECIPES.get(endpoint, Recipe())
    with photo_for(endpoint, image) as photo:
        return client.predict(*(recipe.args or generic_args)(photo, info), api_name=endpoint)


class HttpCaller:
    """The REST API a ``curl`` user calls, without gradio_client: upload, ``POST /gradio_api/call/<name>``, then
    read the server-sent events until ``complete``. Output files are returned as URLs, not downloaded.

    Why both: gradio_client polls its message queue every 50 ms (``gradio_client/utils.py``), which adds a
    client-side floor of about 100-150 ms to every call on a small machine; this shows what the server itself costs.
    """

    def __init__(self, url: str) -> None:
        import httpx

        self.base = url.rstrip("/") + "/gradio_api"
        self.http = httpx.Client(timeout=600.0)

    def _upload(self, value: Any) -> Any:
        if isinstance(value, dict) and value.get("meta", {}).get("_type") == "gradio.FileData":
            with open(value["path"], "rb") as handle:
                response = self.http.post(f"{self.base}/upload", files={"files": handle})
            response.raise_for_status()
            return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}
        return value

    def __call__(self, endpoint: str, image: str, info: dict) -> Any:
        recipe = RECIPES.get(endpoint, Recipe())
        with photo_for(endpoint, image) as photo:
            data = [self._upload(v) for v in (recipe.args or generic_args)(photo, info)]
        response = self.http.post(f"{self.base}/call{endpoint}", json={"data": data})
        response.raise_for_status()
        event_id = response.json()["event_id"]
        event = None
        with self.http.stream("GET", f"{self.base}/call{endpoint}/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    event = line[len("event: "):].strip()
                elif line.startswith("data: ") and event in {"complete", "error"}:
                    payload = json.loads(line[len("data: "):]) if line[6:].strip() not in ("", "null") else None
                    if event == "error":
                        raise RuntimeError(f"{endpoint} answered an error: {payload}")
                    return payload
        raise RuntimeError(f"{endpoint}: the event stream ended without an answer")

    def close(self) -> None:
        self.http.close()


def fingerprint(client: Client) -> Optional[dict]:
    try:
        return client.predict(api_name=DEBUG_ENDPOINT)
    except Exception as exc:  # noqa: BLE001 - reported as "not checked", never silently passed
        print(f"model fingerprint unavailable: {exc}", file=sys.stderr)
        return None


def run_load(url: str, pid: Optional[int], cache_dir: Optional[Path], images: list[str], clients: int,
             duration: float, seed: int = 0) -> dict:
    main_client = Client(url, verbose=False)
    api = main_client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    endpoints = {name: info for name, info in api.items() if not name.startswith("/debug_")}
    # Endpoints without an image input (e.g. a settings toggle) are exercised too, with their defaults.
    # /classify first: each client's first request is spread over this list (below), so client 0 always checks
    # /classify for cross-talk, however short the run.
    names = sorted(endpoints, key=lambda name: (name != "/classify", name))
    work = [(name, image) for name in names for image in (images if takes_image(endpoints[name]) else images[:1])]
    # Sequential answers first: the reference for the cross-talk check (and a warm-up).
    baseline: dict[tuple[str, str], Any] = {}
    for name, image in work:
        recipe = RECIPES.get(name, Recipe())
        result = call(main_client, name, image, endpoints[name])
        if recipe.signature is not None:
            baseline[(name, image)] = recipe.signature(result)
    before = fingerprint(main_client)
    rss_start = rss_bytes(pid)
    cache_start = folder_size(cache_dir)

    stats: dict[str, EndpointStats] = defaultdict(EndpointStats)
    lock = threading.Lock()
    monitor = RssMonitor(pid)
    monitor.start()
    started = threading.Barrier(clients + 1)  # clients connect first; the clock starts when all are ready
    deadline = math.inf

    def user(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        client = Client(url, verbose=False)
        started.wait()
        pick = (index * len(work)) // clients  # first requests spread over the endpoints, then random
        while time.monotonic() < deadline:
            name, image = work[pick]
            pick = rng.randrange(len(work))
            recipe = RECIPES.get(name, Recipe())
            t0 = time.perf_counter()
            try:
                result = call(client, name, image, endpoints[name])
                elapsed = time.perf_counter() - t0
                mismatch = (recipe.signature is not None
                            and not close_enough(recipe.signature(result), baseline[(name, image)]))
                with lock:
                    s = stats[name]
                    s.latencies.append(elapsed)
                    s.checked = recipe.signature is not None
                    s.crosstalk += int(mismatch)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and a sample is reported
                with lock:
                    s = stats[name]
                    s.errors += 1
                    if len(s.error_samples) < 3:
                        s.error_samples.append(f"{exc.__class__.__name__}: {exc}"[:300])

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    t_start = time.monotonic()
    deadline = t_start + duration  # read by the clients only after the barrier below releases them
    started.wait()
    for t in threads:
        t.join(timeout=duration + 300)  # a request in flight at the deadline may finish; never wait forever
    wall = time.monotonic() - t_start
    hung = sum(t.is_alive() for t in threads)
    peak = monitor.stop()
    rss_end = rss_bytes(pid)
    # Growth while the load was already running (second half): warm-up (thread pools, allocator arenas) is over by
    # then, so steady growth here would be a leak.
    rss_mid = monitor.at(t_start + wall / 2)
    after = fingerprint(main_client)
    cache_end = folder_size(cache_dir)

    served = sum(len(s.latencies) for s in stats.values())
    report = {
        "url": url,
        "clients": clients,
        "duration_s": round(wall, 1),
        "images": len(images),
        "endpoints": {
            name: {
                "requests": len(s.latencies),
                "errors": s.errors,
                "p50_ms": round(percentile(s.latencies, 50) * 1000, 1),
                "p95_ms": round(percentile(s.latencies, 95) * 1000, 1),
                "crosstalk": s.crosstalk if s.checked else None,
                "error_samples": s.error_samples,
            }
            for name, s in sorted(stats.items())
        },
        "requests": served,
        "errors": sum(s.errors for s in stats.values()),
        "crosstalk": sum(s.crosstalk for s in stats.values()),
        "throughput_rps": round(served / wall, 2) if wall > 0 else None,
        "hung_clients": hung,
        "rss_mb": None if rss_start is None else {
            "after_warmup": round(rss_start / 2**20, 1),
            "peak": round(peak / 2**20, 1),
            "end": round((rss_end or 0) / 2**20, 1),
            "growth": round(((rss_end or 0) - rss_start) / 2**20, 1),
            "growth_second_half": None if rss_mid is None else round(((rss_end or 0) - rss_mid) / 2**20, 1),
        },
        "cache": None if cache_start is None else {
            "files_before": cache_start[0], "files_after": cache_end[0] if cache_end else None,
            "mb_before": round(cache_start[1] / 2**20, 2),
            "mb_after": round(cache_end[1] / 2**20, 2) if cache_end else None,
        },
        "model_state": (
            "not checked (no /debug_model_fingerprint: start the app with GOOGLENET_DEBUG_ENDPOINTS=1)"
            if before is None or after is None
            else ("identical" if before == after and all(
                v["training_modules"] == 0 and v["hooks"] == 0 for v in after.values()) else "CHANGED")
        ),
        "fingerprint_before": before,
        "fingerprint_after": after,
    }
    report["ok"] = (report["errors"] == 0 and report["crosstalk"] == 0 and hung == 0 and served > 0
                    and report["model_state"] == "identical")
    return report


def print_report(report: dict) -> None:
    print(f"\nLoad test: {report['clients']} clients for {report['duration_s']} s against {report['url']} "
          f"({report['images']} images)\n")
    print("| endpoint | requests | errors | cross-talk | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, e in report["endpoints"].items():
        crosstalk = "not checked" if e["crosstalk"] is None else e["crosstalk"]
        print(f"| `{name}` | {e['requests']} | {e['errors']} | {crosstalk} | {e['p50_ms']} | {e['p95_ms']} |")
    print(f"\nserved {report['requests']} requests ({report['throughput_rps']}/s), errors {report['errors']}, "
          f"cross-talk {report['crosstalk']}, hung clients {report['hung_clients']}")
    if report["rss_mb"]:
        r = report["rss_mb"]
        print(f"server RSS: {r['after_warmup']} MB after warm-up, peak {r['peak']} MB, end {r['end']} MB "
              f"(growth {r['growth']:+} MB, of which {r['growth_second_half']:+} MB in the second half)")
    if report["cache"]:
        c = report["cache"]
        print(f"Gradio cache: {c['files_before']} -> {c['files_after']} files, {c['mb_before']} -> {c['mb_after']} MB")
    print(f"shared model state: {report['model_state']}")
    for name, e in report["endpoints"].items():
        for sample in e["error_samples"]:
            print(f"  error in {name}: {sample}")
    print("\nRESULT:", "PASS" if report["ok"] else "FAIL")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an app already running on a loopback address (default: launch one)")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id, for its memory")
    parser.add_argument("--weights", help="weights file for the launched app (default: the app's own resolution)")
    parser.add_argument("--device", help="device for the launched app (cpu, cuda, ...)")
    parser.add_argument("--clients", type=int, default=None, help="concurrent clients (default 16; quick: 4)")
    parser.add_argument("--duration", type=float, default=None, help="seconds of load (default 30; quick: 3)")
    parser.add_argument("--images", type=int, default=None, help="number of different test images (default 8; quick: 2)")
    parser.add_argument("--quick", action="store_true", help="a few seconds, for correctness only")
    parser.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    args = parser.parse_args(argv)
    clients = args.clients or (4 if args.quick else 16)
    duration = args.duration or (3.0 if args.quick else 30.0)
    if clients < 1 or not 0 < duration <= 3600:
        parser.error("--clients must be >= 1 and --duration between 0 and 3600 s")

    with tempfile.TemporaryDirectory(prefix="googlenet-load-") as tmp:
        work = Path(tmp)
        images = make_images(work, args.images or (2 if args.quick else 8))
        if args.url:
            require_loopback(args.url)
            report = run_load(args.url, args.pid, None, images, clients, duration)
        else:
            # the app's own weights resolution (the machine's torch cache), the fingerprint endpoint on
            with launched_app(work, args.weights, device=args.device, debug_endpoints=True,
                              isolated=False) as server:
                report = run_load(server.url, server.pid, server.cache_dir, images, clients, duration)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
