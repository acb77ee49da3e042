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
import json
import logging
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script (`python bench/benchmark.py`): `bench` and `googlenet` from here

from bench.random_weights import save_random_checkpoint  # noqa: E402
from bench.sections.attributions import attribution_section  # noqa: E402
from bench.sections.capture import capture_section  # noqa: E402
from bench.sections.common import Plan, log  # noqa: E402
from bench.sections.features import features_section  # noqa: E402
from bench.sections.forward import bf16_section, forward_section, throughput_section, torchvision_model  # noqa: E402
from bench.sections.machine import machine  # noqa: E402
from bench.sections.photo_index import photo_index_section  # noqa: E402
from bench.sections.report import render  # noqa: E402
from bench.sections.serving import serving_section  # noqa: E402

from googlenet.inference import Engine, select_device  # noqa: E402
from googlenet.weights import (WeightsInfo, WeightsKind, cache_path, load_model, resolve_weights,  # noqa: E402
                               sha256_of)

FULL = Plan(warmup=8, runs=40, batches=(8, 32), attribution_size=224, attribution_preset="balanced",
            faithfulness_steps=10, endpoint_seconds=20.0, one_client_requests=10, many_clients=8,
            many_client_requests=3, ig_steps=32, quick=False)
SECTIONS: tuple[str, ...] = ("forward", "throughput", "bf16", "capture", "photo_index", "attributions", "features",
                             "serving")
QUICK = Plan(warmup=1, runs=2, batches=(2,), attribution_size=64, attribution_preset="fast",
             faithfulness_steps=None, endpoint_seconds=5.0, one_client_requests=2, many_clients=2,
             many_client_requests=1, ig_steps=4, quick=True)


def pick_weights(explicit: Optional[str], work: Path) -> WeightsInfo:
    """``explicit`` if given, else the official weights from the torch cache, else a random checkpoint with
    calibrated BatchNorm statistics written to ``work``."""
    if explicit:
        return resolve_weights(explicit, allow_download=False)
    if cache_path().exists():
        info = resolve_weights(None, allow_download=False)
        if info.official:
            return info
    path = work / "googlenet-random-calibrated.pth"
    save_random_checkpoint(path)
    return WeightsInfo(kind=WeightsKind.CUSTOM, path=path, sha256=sha256_of(path), source="explicit")



def main(argv: Optional[list[str]] = None) -> int:
    """Parse the options, pick the plan and the weights, run the sections in order and write the report."""
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
            "photo_index": lambda: photo_index_section(engine, plan, work),
            "attributions": lambda: attribution_section(engine, plan),
            "features": lambda: features_section(engine, plan),
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
