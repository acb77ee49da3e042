"""The cost of capturing all 36 branch outputs (``googlenet.activations.capture``, what the branch views run) vs a
plain forward of the same model, interleaved: the ratio says how much the hooks and the kept tensors add."""

from __future__ import annotations

import torch

from bench.sections.common import Plan, interleaved, log
from googlenet.inference import Engine


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
