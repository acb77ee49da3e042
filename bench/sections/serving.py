"""The served app, end to end: every API endpoint of a launched app through gradio_client (1 client, then several
at once) and through the REST API without gradio_client (which polls for messages every 50 ms), the server's RSS,
cold start (process start to the first answered /classify), and the floor: the same calls against
bench/floor_app.py, a /classify that does no work, i.e. what Gradio and the client cost whatever the model."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Optional

from bench.launcher import launched_app
from bench.sections.common import ROOT, Plan, log

FLOOR_APP = ROOT / "bench" / "floor_app.py"


def _drive(url: str, endpoint: str, info: dict, images: list[str], clients: int, per_client: int,
           seconds: float) -> dict:
    """``clients`` concurrent gradio_client users, each sending up to ``per_client`` requests (at least one, none
    started after ``seconds``); latencies of the answered ones."""
    from bench import load_test
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    deadline = [0.0]

    def user(index: int) -> None:
        client = Client(url, verbose=False)
        barrier.wait()
        if index == 0:
            deadline[0] = time.monotonic() + seconds
        for k in range(per_client):
            if k > 0 and time.monotonic() > (deadline[0] or time.monotonic() + seconds):
                break
            image = images[(index * per_client + k) % len(images)]
            start = time.perf_counter()
            try:
                load_test.call(client, endpoint, image, info)
                with lock:
                    latencies.append(time.perf_counter() - start)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{exc.__class__.__name__}: {exc}"[:200])

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(clients)]
    wall_start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall_start
    return _latency_stats(latencies, errors, clients, wall)


def _latency_stats(latencies: list[float], errors: list[str], clients: int, wall: float) -> dict:
    from bench import load_test

    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:2],
        "p50_ms": round(load_test.percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p95_ms": round(load_test.percentile(latencies, 95) * 1000, 1) if latencies else None,
        "requests_per_s": round(len(latencies) / wall, 2) if wall > 0 else None,
    }


def serving_section(weights: Optional[Path], device: Optional[str], plan: Plan, work: Path,
                    only: Optional[list[str]] = None) -> dict:
    """Launch the app with ``weights`` and time every endpoint (or those in ``only``), then the floor."""
    try:
        from bench import load_test
        from gradio_client import Client
    except ImportError as exc:
        return {"available": False, "reason": f"gradio_client / bench.load_test not available ({exc})"}
    images = load_test.make_images(work, 8)
    t0 = time.perf_counter()
    with launched_app(work, weights, device=device, debug_endpoints=True, isolated=False) as server:
        monitor = load_test.RssMonitor(server.pid, interval=0.1)
        monitor.start()
        client = Client(server.url, verbose=False)
        from gradio_client import handle_file

        client.predict(handle_file(images[0]), api_name="/classify")
        cold_start = time.perf_counter() - t0
        api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
        endpoints = {name: info for name, info in sorted(api.items()) if not name.startswith("/debug_")}
        rows = []
        for name, info in endpoints.items():
            if plan.quick and name != "/classify":
                rows.append({"endpoint": name, "skipped": "--quick measures /classify only"})
                continue
            if only is not None and name not in only:
                continue
            # One request before timing: first-use work (an attributor's calibration, lazy loads) is not latency.
            with contextlib.suppress(Exception):
                load_test.call(client, name, images[1], info)
            phase_start = time.monotonic()
            one = _drive(server.url, name, info, images, 1, plan.one_client_requests, plan.endpoint_seconds)
            http = _drive_http(server.url, name, info, images, plan.one_client_requests, plan.endpoint_seconds)
            many = _drive(server.url, name, info, images, plan.many_clients, plan.many_client_requests,
                          plan.endpoint_seconds)
            phase = [rss for t, rss in list(monitor.samples) if t >= phase_start]
            rows.append({"endpoint": name, "one_client": one, "http": http, "many_clients": many,
                         "rss_peak_mb": round(max(phase) / 2**20, 1) if phase else None})
            log.info("%s: %s | http %s | %s", name, one, http, many)
        peak = monitor.stop()
    floor = floor_section(plan, work, images, api.get("/classify", {}))
    return {"available": True, "cold_start_s": round(cold_start, 2), "peak_rss_mb": round(peak / 2**20, 1),
            "cold_start_definition": "process start to the first answered /classify (gradio_client)",
            "rss_definition": "server process and children, sampled every 0.1 s over the whole session",
            "rows": rows, "floor": floor}


def _drive_http(url: str, endpoint: str, info: dict, images: list[str], requests: int, seconds: float) -> dict:
    """One REST-API user (bench/load_test.HttpCaller: no gradio_client), sequential requests."""
    from bench import load_test

    caller = load_test.HttpCaller(url)
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    try:
        for k in range(requests):
            if k > 0 and time.monotonic() > deadline:
                break
            start = time.perf_counter()
            try:
                caller(endpoint, images[k % len(images)], info)
                latencies.append(time.perf_counter() - start)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(f"{exc.__class__.__name__}: {exc}"[:200])
    finally:
        caller.close()
    return _latency_stats(latencies, errors, 1, sum(latencies))


def floor_section(plan: Plan, work: Path, images: list[str], info: dict) -> dict:
    """The same client calls against bench/floor_app.py: a /classify with the same inputs and outputs that does
    no work. Its latency is what Gradio and the client cost on this machine, whatever the model."""
    from bench import load_test

    if not info:
        return {"available": False, "reason": "no /classify endpoint"}
    with launched_app(work, script=FLOOR_APP) as server:
        with contextlib.suppress(Exception):  # warm-up
            load_test.call(__import__("gradio_client").Client(server.url, verbose=False), "/classify", images[0], info)
        one = _drive(server.url, "/classify", info, images, 1, plan.one_client_requests, plan.endpoint_seconds)
        http = _drive_http(server.url, "/classify", info, images, plan.one_client_requests, plan.endpoint_seconds)
    return {"available": True, "one_client": one, "http": http}
