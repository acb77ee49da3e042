"""One-command benchmark: our inference model vs torchvision, attributions, the served API, cold start and memory.

    make bench                                   # = python bench/benchmark.py (a few minutes on 2 cores)
    python bench/benchmark.py --json bench.json  # also write the report as JSON
    python bench/benchmark.py --quick            # tiny sizes and counts: checks the script works (used by the tests)
    python bench/benchmark.py --device cuda --gpu-targets   # on a GPU machine (bench/gpu_check.sh)

Weights: the official checkpoint when it is in torchvision's cache (``$TORCH_HOME/hub/checkpoints``), else a random
checkpoint with calibrated BatchNorm statistics that the script creates in a temporary folder (the report says which):
timing does not depend on the weights, but top-1 agreement numbers are only meaningful with the official ones.

Sections (each one reports "not available" with the reason instead of failing when its module is missing):
machine; forward latency at batch 1 (ours vs ``torchvision.models.googlenet`` in plain eval mode with the same
weights, interleaved runs, median after warm-up) with the speed-up candidates we tried; throughput at batch 8 / 32;
bf16 autocast (latency, top-1 agreement and max probability difference vs fp32 on the example photos); the cost of
capturing all 36 branch outputs; time and memory of each attribution method at its default settings; end-to-end
latency of every API endpoint through gradio_client against a launched app (1 and 8 clients); cold start; serving RSS.

Memory of attributions is the peak increase of the process's RSS sampled every 5 ms with psutil (tracemalloc does not
see torch's allocations); memory the allocator already held from earlier steps is reused and not counted, so it is a
lower bound. On CUDA it is ``torch.cuda.max_memory_allocated``.

Exit status 1 when a correctness check fails (our fp32 logits more than 1e-4 from torchvision's, an endpoint error).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Optional

import psutil
import torch
import torchvision

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from googlenet.inference import Engine, select_device  # noqa: E402
from googlenet.model import GoogLeNet  # noqa: E402
from googlenet.optimize import build_inference_net  # noqa: E402
from googlenet.weights import (WeightsInfo, WeightsKind, cache_path, load_model, resolve_weights,  # noqa: E402
                               sha256_of)

log = logging.getLogger("benchmark")
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


FULL = Plan(warmup=8, runs=40, batches=(8, 32), attribution_size=224, attribution_preset="balanced",
            faithfulness_steps=10, endpoint_seconds=20.0, one_client_requests=10, many_clients=8,
            many_client_requests=3, ig_steps=32, quick=False)
SECTIONS: tuple[str, ...] = ("forward", "throughput", "bf16", "capture", "attributions", "serving")
QUICK = Plan(warmup=1, runs=2, batches=(2,), attribution_size=64, attribution_preset="fast",
             faithfulness_steps=None, endpoint_seconds=5.0, one_client_requests=2, many_clients=2,
             many_client_requests=1, ig_steps=4, quick=True)


# ---------------------------------------------------------------------------------------------------------------
# Machine and weights
# ---------------------------------------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def bf16_native() -> bool:
    """oneDNN's own check: the CPU has bf16 instructions (avx512_bf16 or AMX)."""
    with contextlib.suppress(Exception):
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def machine(device: torch.device) -> dict:
    import gradio

    flags = cpu_flags()
    return {
        "cpu": cpu_model(),
        "cores_physical": psutil.cpu_count(logical=False),
        "cores_logical": psutil.cpu_count(logical=True),
        "torch_threads": torch.get_num_threads(),
        "cpu_bf16_native": bf16_native(),
        "cpu_flags": sorted(f for f in flags if f.startswith(("avx512", "amx")) or f in {"avx2", "fma"}),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "device": str(device),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "gradio": gradio.__version__,
        "onednn": torch.backends.mkldnn.is_available(),
    }


def calibrated_random_checkpoint(path: Path, seed: int = 0) -> None:
    """A GoogLeNet with torchvision's random init and BatchNorm statistics averaged over random images, so that
    activations keep a healthy scale and logit comparisons can fail (the same recipe as tests/conftest.py)."""
    torch.manual_seed(seed)
    model = GoogLeNet(aux_logits=True, transform_input=True)
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
        if isinstance(m, torch.nn.Linear):
            with torch.no_grad():
                m.weight.mul_(5.0)  # spread the logits so top-1 is not a coin toss
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # cumulative average
    model.train()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(8, 3, 224, 224, generator=generator))
    torch.save(model.state_dict(), path)


def pick_weights(explicit: Optional[str], work: Path) -> WeightsInfo:
    if explicit:
        return resolve_weights(explicit, allow_download=False)
    if cache_path().exists():
        info = resolve_weights(None, allow_download=False)
        if info.official:
            return info
    path = work / "googlenet-random-calibrated.pth"
    calibrated_random_checkpoint(path)
    return WeightsInfo(kind=WeightsKind.CUSTOM, path=path, sha256=sha256_of(path), source="explicit")


def torchvision_model(engine: Engine) -> torch.nn.Module:
    """``torchvision.models.googlenet`` in plain eval mode with the engine's weights (main head only)."""
    model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False,
                                         transform_input=engine.reference.transform_input)
    state = {k: v for k, v in engine.reference.state_dict().items() if not k.startswith(("aux1.", "aux2."))}
    model.load_state_dict(state, strict=True)
    return model.eval().to(engine.device)


# ---------------------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------------------------


def forward_section(engine: Engine, tv: torch.nn.Module, plan: Plan, compile_batch1: bool) -> dict:
    """Batch-1 latency of ours and of the speed-up candidates vs torchvision, with each one's logit difference."""
    device = engine.device
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 224, 224, generator=generator).to(device)
    xcl = x.contiguous(memory_format=torch.channels_last)
    photos = example_batch(engine)
    fused_plain = copy.deepcopy(engine.fast).to(memory_format=torch.contiguous_format)  # folded, NCHW
    ours_name = f"ours (engine.logits: {engine.inference_description})"

    def fast(t: torch.Tensor) -> torch.Tensor:
        return engine.fast(t.contiguous(memory_format=torch.channels_last))

    # The first candidate is torchvision, the second is what the app serves (engine.logits); the rest are the
    # steps towards it and the alternatives we measured.
    candidates: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "torchvision eval": lambda t: tv(t),
        ours_name: engine.logits,
    }
    notes: dict[str, str] = {}
    if device.type == "cpu":
        plain_net = build_inference_net(engine.fast, packed=False)
        candidates["merged 1x1 convs, plain conv2d (InferenceNet packed=False)"] = plain_net
        candidates["BatchNorm folded + channels_last (engine.fast)"] = fast
        candidates["BatchNorm folded only (NCHW)"] = lambda t: fused_plain(t)
        with torch.inference_mode():
            frozen = torch.jit.freeze(torch.jit.trace(engine.fast, xcl, check_trace=False))
            optimized = torch.jit.optimize_for_inference(torch.jit.trace(engine.fast, xcl, check_trace=False))
        candidates["engine.fast + torch.jit.freeze"] = lambda t: frozen(t.contiguous(memory_format=torch.channels_last))
        candidates["engine.fast + jit optimize_for_inference"] = lambda t: optimized(t.contiguous(
            memory_format=torch.channels_last))

        def no_onednn(t: torch.Tensor) -> torch.Tensor:
            with torch.backends.mkldnn.flags(enabled=False):
                return fast(t)

        candidates["engine.fast with oneDNN off"] = no_onednn
        threads = torch.get_num_threads()
        if threads > 1:
            def one_thread(t: torch.Tensor) -> torch.Tensor:
                torch.set_num_threads(1)
                try:
                    return engine.logits(t)
                finally:
                    torch.set_num_threads(threads)

            candidates["ours with 1 thread"] = one_thread
        try:
            bf16_net = build_inference_net(engine.fast, dtype=torch.bfloat16)
        except RuntimeError as exc:
            log.warning("no bf16 inference net on this CPU: %s", exc)
        else:
            candidates["ours in bf16 (InferenceNet, bf16 weights)"] = bf16_net
            notes["ours in bf16 (InferenceNet, bf16 weights)"] = (
                "native bf16 (avx512_bf16/AMX)" if bf16_native() else "no native bf16 on this CPU: emulated")

        def bf16(t: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return fast(t).float()

        candidates["engine.fast, bf16 autocast"] = bf16
    else:
        candidates["BatchNorm folded + channels_last, fp32"] = fast
        for dtype_name, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
            def autocast(t: torch.Tensor, dtype: torch.dtype = dtype) -> torch.Tensor:
                with torch.autocast("cuda", dtype=dtype):
                    return fast(t).float()

            candidates[f"ours, {dtype_name} autocast"] = autocast
        if compile_batch1:
            compiled_engine = Engine(copy.deepcopy(engine.reference), engine.weights, device, precision="fp16",
                                     compile_batch1=True)

            def compiled(t: torch.Tensor) -> torch.Tensor:
                return compiled_engine.logits(t)

            candidates["ours, fp16 + torch.compile (CUDA graphs)"] = compiled
            notes["ours, fp16 + torch.compile (CUDA graphs)"] = "includes the copy of the logits to the CPU"

    with torch.inference_mode():
        reference_random = tv(x).float()
        reference_photos = tv(photos).float()
    timings = interleaved({name: (lambda fn=fn: fn(x)) for name, fn in candidates.items()}, plan.warmup,
                          plan.runs, device)
    rows = []
    tv_s = timings["torchvision eval"]
    with torch.inference_mode():
        for name, fn in candidates.items():
            diff = max((fn(x).float() - reference_random).abs().max().item(),
                       (fn(photos).float() - reference_photos).abs().max().item())
            rows.append({
                "model": name,
                "median_ms": round(timings[name] * 1000, 2),
                "ratio_vs_torchvision": round(timings[name] / tv_s, 3),
                "max_abs_logit_diff": float(f"{diff:.3g}"),
                "within_1e-4": diff <= TOLERANCE,
                "note": notes.get(name, ""),
            })
    ours = rows[1]
    return {"batch": 1, "runs": plan.runs, "warmup": plan.warmup, "rows": rows,
            "ours_ms": ours["median_ms"], "torchvision_ms": rows[0]["median_ms"],
            "ratio": ours["ratio_vs_torchvision"], "max_abs_logit_diff": ours["max_abs_logit_diff"],
            "ok": ours["within_1e-4"]}


def throughput_section(engine: Engine, tv: torch.nn.Module, plan: Plan, batches: tuple[int, ...]) -> dict:
    device = engine.device
    bf16_net = None
    if device.type == "cpu" and bf16_native():  # emulated bf16 is slower than fp32: not worth a row
        bf16_net = build_inference_net(engine.fast, dtype=torch.bfloat16)
    rows = []
    for n in batches:
        x = torch.randn(n, 3, 224, 224, generator=torch.Generator().manual_seed(n)).to(device)
        candidates: dict[str, Callable[[], Any]] = {
            "torchvision eval": lambda: tv(x),
            f"ours ({engine.precision})": lambda: engine.logits(x),
        }
        if device.type == "cpu" and bf16_net is not None:
            candidates["ours in bf16 (InferenceNet)"] = lambda: bf16_net(x)
        if device.type == "cuda":
            def fp16() -> Any:
                with torch.autocast("cuda", dtype=torch.float16):
                    return engine.fast(x.contiguous(memory_format=torch.channels_last))

            candidates["ours (fp16 autocast)"] = fp16
        runs = max(2, plan.runs // (4 if n >= 32 else 2)) if not plan.quick else plan.runs
        timings = interleaved(candidates, max(1, plan.warmup // 2), runs, device)
        for name, seconds in timings.items():
            rows.append({"batch": n, "model": name, "median_ms": round(seconds * 1000, 1),
                         "images_per_s": round(n / seconds, 1)})
    return {"rows": rows}


def bf16_section(engine: Engine, plan: Plan) -> dict:
    """bf16 vs fp32 on the example photos: top-1 agreement and the largest probability difference.

    On the CPU, bf16 is the InferenceNet with bfloat16 weights (``Engine(precision="bf16")``); on a GPU, autocast.
    """
    device_type = engine.device.type
    photos = example_batch(engine).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        p32 = engine.fast(photos).float().softmax(1)
        try:
            if device_type == "cpu":
                p16 = build_inference_net(engine.fast, dtype=torch.bfloat16)(photos).softmax(1)
            else:
                with torch.autocast(device_type, dtype=torch.bfloat16):
                    p16 = engine.fast(photos).float().softmax(1)
        except RuntimeError as exc:
            return {"available": False, "reason": f"bf16 fails on this device: {exc}"}
    agree = (p32.argmax(1) == p16.argmax(1)).tolist()
    return {
        "available": True,
        "native": bf16_native() if device_type == "cpu" else True,
        "photos": [p.name for p in PHOTOS],
        "top1_agrees": agree,
        "top1_agreement": f"{sum(agree)}/{len(agree)}",
        "max_prob_diff": float(f"{(p32 - p16).abs().max().item():.3g}"),
        "default": False,
    }


def capture_section(engine: Engine, plan: Plan) -> dict:
    """Capturing all 36 branch outputs (googlenet.activations.capture) vs a plain forward."""
    try:
        from googlenet.activations import capture as capture_branches
    except ImportError as exc:
        return {"available": False, "reason": f"googlenet.activations not available ({exc})"}
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1)).to(engine.device)
    model = engine.fast
    try:
        with torch.inference_mode():
            capture_branches(model, x.contiguous(memory_format=torch.channels_last))
    except Exception as exc:  # noqa: BLE001 - another branch's API: report, do not fail the benchmark
        log.warning("branch capture failed on engine.fast: %s", exc)
        return {"available": False, "reason": f"capture_branches failed: {exc.__class__.__name__}: {exc}"}
    xcl = x.contiguous(memory_format=torch.channels_last)
    timings = interleaved({"plain forward": lambda: model(xcl), "capture 36 branches": lambda: capture_branches(
        model, xcl)}, plan.warmup, plan.runs, engine.device)
    return {"available": True, "plain_ms": round(timings["plain forward"] * 1000, 2),
            "capture_ms": round(timings["capture 36 branches"] * 1000, 2),
            "ratio": round(timings["capture 36 branches"] / timings["plain forward"], 3)}


def attribution_section(engine: Engine, plan: Plan) -> dict:
    try:
        from googlenet import attributions as attr_lib
    except ImportError as exc:
        return {"available": False, "reason": f"googlenet.attributions not available ({exc})"}
    attributor = attr_lib.Attributor.for_engine(engine, pool_size=1)
    attributor.throughput()  # the one-off calibration forward/backward, not part of any method's time
    _, x = engine.prepare(PHOTOS[0])
    if plan.attribution_size != 224:
        x = torch.nn.functional.interpolate(x, size=(plan.attribution_size,) * 2, mode="bilinear",
                                            align_corners=False)
    batch = attr_lib.batch_size_for(engine.device)  # what the app uses on this device
    jobs: list[tuple[str, Any, Optional[int]]] = [
        (m, attr_lib.AttributionSettings(method=m, preset=plan.attribution_preset, internal_batch_size=batch),
         plan.faithfulness_steps)
        for m in attr_lib.METHODS
    ]
    jobs.append((f"integrated_gradients, {plan.ig_steps} steps (no faithfulness)",
                 attr_lib.AttributionSettings(method="integrated_gradients", steps=plan.ig_steps,
                                              internal_batch_size=batch), None))
    rows = []
    for name, settings, faithfulness in jobs:
        if engine.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(engine.device)
            base = torch.cuda.memory_allocated(engine.device)
        monitor = PeakRss()
        monitor.start()
        start = time.perf_counter()
        result = attributor.attribute(x, settings, faithfulness_steps=faithfulness)
        _sync(engine.device)
        elapsed = time.perf_counter() - start
        rss = monitor.stop()
        row = {"method": name, "preset": settings.preset, "settings": result.settings.to_json(),
               "images": result.cost.forward, "seconds": round(elapsed, 3),
               "peak_rss_increase_mb": round(rss / 2**20, 1)}
        if engine.device.type == "cuda":
            row["peak_cuda_mb"] = round((torch.cuda.max_memory_allocated(engine.device) - base) / 2**20, 1)
        rows.append(row)
    bf16 = bf16_attribution_check(engine, plan, attr_lib)
    return {"available": True, "input": f"{plan.attribution_size}x{plan.attribution_size}",
            "faithfulness_steps": plan.faithfulness_steps, "bf16_check": bf16, "internal_batch_size": batch,
            "memory": "peak RSS increase sampled every 5 ms with psutil (lower bound: reused allocator memory is "
                      "not counted)" + ("; CUDA: max_memory_allocated" if engine.device.type == "cuda" else ""),
            "rows": rows}


class _Bf16Autocast(torch.nn.Module):
    """``model`` under bf16 autocast, outputs in float32: how attributions would run in bf16."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            return self.model(x).float()


def bf16_attribution_check(engine: Engine, plan: Plan, attr_lib: Any) -> dict:
    """Would bf16 autocast be acceptable for attributions? IG with ``plan.ig_steps`` steps in fp32 and in bf16 on
    the example photos, for the top-1 class and for a low-ranked class: time and Spearman rank correlation of the
    maps. (It was not: see the README. The app runs attributions in fp32.)"""
    if engine.device.type == "cpu" and not bf16_native():
        return {"available": False, "reason": "no native bf16 on this CPU (emulated bf16 is slower than fp32)"}
    fp32 = attr_lib.Attributor.for_engine(engine, pool_size=1)
    low = attr_lib.Attributor(_Bf16Autocast(engine.fast), pool_size=1, channels_last=True,
                              preprocess_spec=engine.preprocess_spec)
    settings = attr_lib.AttributionSettings(method="integrated_gradients", steps=plan.ig_steps)
    rows = []
    for photo in PHOTOS[:1] if plan.quick else PHOTOS:
        _, x = engine.prepare(photo)
        if plan.attribution_size != 224:
            x = torch.nn.functional.interpolate(x, size=(plan.attribution_size,) * 2, mode="bilinear",
                                                align_corners=False)
        ranking = engine.logits(x)[0].argsort(descending=True)
        for label, target in (("top-1", int(ranking[0])), ("rank 500", int(ranking[499]))):
            a = fp32.attribute(x, settings, target=target, faithfulness_steps=None)
            b = low.attribute(x, settings, target=target, faithfulness_steps=None)
            rows.append({"photo": photo.name, "target": label, "fp32_s": round(a.elapsed_s, 3),
                         "bf16_s": round(b.elapsed_s, 3),
                         "spearman": round(attr_lib.spearman(a.map.ravel(), b.map.ravel()), 3)})
    return {"available": True, "rows": rows}


# ---------------------------------------------------------------------------------------------------------------
# The served app
# ---------------------------------------------------------------------------------------------------------------


def _drive(url: str, endpoint: str, info: dict, images: list[str], clients: int, per_client: int,
           seconds: float) -> dict:
    """``clients`` concurrent gradio_client users, each sending up to ``per_client`` requests (at least one, none
    started after ``seconds``); latencies of the answered ones."""
    import load_test
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
    import load_test

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
    try:
        import load_test
        from gradio_client import Client
    except ImportError as exc:
        return {"available": False, "reason": f"gradio_client / bench.load_test not available ({exc})"}
    images = load_test.make_images(work, 8)
    t0 = time.perf_counter()
    with load_test.launched_app(work, str(weights) if weights else None, device) as server:
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
    import load_test

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
    import load_test

    if not info:
        return {"available": False, "reason": "no /classify endpoint"}
    with load_test.launched_app(work, None, None, script=Path(__file__).with_name("floor_app.py")) as server:
        with contextlib.suppress(Exception):  # warm-up
            load_test.call(__import__("gradio_client").Client(server.url, verbose=False), "/classify", images[0], info)
        one = _drive(server.url, "/classify", info, images, 1, plan.one_client_requests, plan.endpoint_seconds)
        http = _drive_http(server.url, "/classify", info, images, plan.one_client_requests, plan.endpoint_seconds)
    return {"available": True, "one_client": one, "http": http}


# ---------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render(report: dict) -> str:
    m = report["machine"]
    out = [f"## Machine\n\n{m['cpu']}, {m['cores_physical']} physical / {m['cores_logical']} logical cores, "
           f"{m['memory_gb']} GB, torch threads {m['torch_threads']}, native CPU bf16: {m['cpu_bf16_native']}; "
           f"GPU: {m['gpu'] or 'none'}; device {m['device']}; torch {m['torch']}, torchvision {m['torchvision']}, "
           f"gradio {m['gradio']}; load average at start {m['load_average']}.\n\nWeights: {report['weights']}\n"]
    f = report["forward"]
    if "rows" in f:
        out.append(f"## Batch-1 forward ({f['runs']} interleaved runs after {f['warmup']} warm-up, median)\n")
        out.append(_table(["model", "median ms", "ratio vs torchvision", "max abs logit diff", "within 1e-4",
                           "note"], [[r["model"], r["median_ms"], r["ratio_vs_torchvision"], r["max_abs_logit_diff"],
                                      r["within_1e-4"], r["note"]] for r in f["rows"]]))
    if "rows" in report["throughput"]:
        out.append("\n## Throughput\n")
        out.append(_table(["batch", "model", "median ms", "images/s"],
                          [[r["batch"], r["model"], r["median_ms"], r["images_per_s"]]
                           for r in report["throughput"]["rows"]]))
    b = report["bf16"]
    out.append("\n## bf16 vs fp32 (example photos)\n")
    out.append(f"top-1 agreement {b['top1_agreement']}, max probability difference {b['max_prob_diff']}, native "
               f"{b['native']}; never the default" if b.get("available") else f"not available: {b['reason']}")
    c = report["capture"]
    out.append("\n## Branch capture (36 outputs) vs plain forward\n")
    out.append(f"plain {c['plain_ms']} ms, capture {c['capture_ms']} ms, ratio {c['ratio']}" if c.get("available")
               else f"not available: {c['reason']}")
    a = report["attributions"]
    out.append(f"\n## Attributions ({a.get('input')}, default preset, faithfulness steps "
               f"{a.get('faithfulness_steps')}, batches of {a.get('internal_batch_size')})\n")
    if a.get("available"):
        out.append(_table(["method", "images", "seconds", "peak RSS increase MB"],
                          [[r["method"], r["images"], r["seconds"], r["peak_rss_increase_mb"]] for r in a["rows"]]))
        out.append(f"\nmemory: {a['memory']}")
        check = a.get("bf16_check", {})
        if check.get("available"):
            out.append("\nIntegrated Gradients in bf16 autocast vs fp32 (not used by the app):\n")
            out.append(_table(["photo", "target", "fp32 s", "bf16 s", "Spearman of the maps"],
                              [[r["photo"], r["target"], r["fp32_s"], r["bf16_s"], r["spearman"]]
                               for r in check["rows"]]))
    else:
        out.append(f"not available: {a['reason']}")
    s = report["serving"]
    out.append("\n## API endpoints (gradio_client against a launched app)\n")
    if s.get("available"):
        rows = []
        for r in s["rows"]:
            if "skipped" in r:
                rows.append([r["endpoint"], r["skipped"], "", "", "", "", "", "", "", ""])
                continue
            one, many, http = r["one_client"], r["many_clients"], r.get("http", {})
            rows.append([f"`{r['endpoint']}`", one["p50_ms"], one["p95_ms"], one["requests_per_s"],
                         http.get("p50_ms"), many["p50_ms"], many["p95_ms"], many["requests_per_s"],
                         r.get("rss_peak_mb"), one["errors"] + many["errors"] + http.get("errors", 0)])
        floor = s.get("floor", {})
        if floor.get("available"):
            one, http = floor["one_client"], floor["http"]
            rows.append(["floor: a `/classify` that does no work (bench/floor_app.py)", one["p50_ms"],
                         one["p95_ms"], one["requests_per_s"], http["p50_ms"], "", "", "", "",
                         one["errors"] + http["errors"]])
        n = report["plan"]["many_clients"]
        out.append(_table(["endpoint", "1 client p50 ms", "p95 ms", "req/s", "REST API p50 ms",
                           f"{n} clients p50 ms", "p95 ms", "req/s", "server RSS peak MB", "errors"], rows))
        out.append("\n1 and {n} clients: gradio_client; REST API: one user of `POST /gradio_api/call/<name>` + its "
                   "event stream, no gradio_client (which polls for messages every 50 ms).".replace("{n}", str(n)))
        out.append(f"\ncold start (process start to first answered /classify): {s['cold_start_s']} s; "
                   f"serving process peak RSS: {s['peak_rss_mb']} MB")
    else:
        out.append(f"not available: {s['reason']}")
    out.append(f"\nTotal benchmark time {report['elapsed_s']} s. RESULT: {'PASS' if report['ok'] else 'FAIL'}")
    return "\n".join(out)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and counts: checks the script, not speed")
    parser.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    parser.add_argument("--weights", help="a weights file (default: official from the cache, else random)")
    parser.add_argument("--device", help="cpu, cuda, ... (default: CUDA if available, else CPU)")
    parser.add_argument("--gpu-targets", action="store_true", help="also batch 256 throughput (GPU)")
    parser.add_argument("--compile", action="store_true", help="CUDA: also time torch.compile + CUDA graphs")
    parser.add_argument("--no-serving", action="store_true", help="skip the launched-app section")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    parser.add_argument("--endpoints", help="serving: only these endpoints, e.g. /classify,/branches")
    parser.add_argument("--runs", type=int, help="timed runs per forward candidate (default 40; quick 2)")
    parser.add_argument("--per-client", type=int, help="requests per client with 8 clients (default 3)")
    args = parser.parse_args(argv)
    sections = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    if args.no_serving and "serving" in sections:
        sections.remove("serving")
    endpoints = [e.strip() for e in args.endpoints.split(",")] if args.endpoints else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per HTTP request otherwise
    plan = QUICK if args.quick else FULL
    if args.runs:
        plan = replace(plan, runs=max(2, args.runs), warmup=max(1, min(plan.warmup, args.runs // 4)))
    if args.per_client:
        plan = replace(plan, many_client_requests=max(1, args.per_client),
                       one_client_requests=max(2, min(plan.one_client_requests, 3 * args.per_client)))
    started = time.perf_counter()
    device = select_device(args.device)
    with tempfile.TemporaryDirectory(prefix="googlenet-bench-") as tmp:
        work = Path(tmp)
        info = pick_weights(args.weights, work)
        weights_text = ("official torchvision IMAGENET1K_V1 (from the torch cache)" if info.official else
                        f"{info.description}" + (" - a random checkpoint with calibrated BatchNorm made by this "
                                                 "script (no official weights in the torch cache)"
                                                 if info.path and info.path.parent == work else ""))
        engine = Engine(load_model(info), info, device, precision="fp32")
        tv = torchvision_model(engine)
        report: dict[str, Any] = {"machine": machine(device), "weights": weights_text,
                                  "weights_official": info.official, "plan": plan.__dict__}
        log.info("machine: %s", report["machine"])
        def checkpoint() -> None:
            """Write what is measured so far: a run cut short (slow, loaded machine) still leaves its numbers."""
            if args.json:
                args.json.write_text(json.dumps({**report, "partial": True}, indent=2, default=str))

        skipped = {"available": False, "reason": "not in --sections"}
        batches = plan.batches + ((256,) if args.gpu_targets and device.type == "cuda" else ())
        run_section = {
            "forward": lambda: forward_section(engine, tv, plan, args.compile),
            "throughput": lambda: throughput_section(engine, tv, plan, batches),
            "bf16": lambda: bf16_section(engine, plan),
            "capture": lambda: capture_section(engine, plan),
            "attributions": lambda: attribution_section(engine, plan),
            "serving": lambda: serving_section(info.path, args.device, plan, work, endpoints),
        }
        for name in SECTIONS:
            if name == "serving":
                del tv  # the launched app is measured alone: free this process's second model first
            report[name] = run_section[name]() if name in sections else skipped
            checkpoint()
            if name == "forward" and name in sections:
                log.info("forward: ours %.1f ms, torchvision %.1f ms", report["forward"]["ours_ms"],
                         report["forward"]["torchvision_ms"])
    errors = sum(r["one_client"]["errors"] + r["many_clients"]["errors"] + r.get("http", {}).get("errors", 0)
                 for r in report["serving"].get("rows", []) if "one_client" in r)
    report["ok"] = bool(report["forward"].get("ok", True) and errors == 0)
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
