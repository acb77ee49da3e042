"""Attributions: time and memory of each method at its default settings (and IG with the issue's step count), on
one example photo at the app's internal batch size for the device, and whether bf16 autocast would be acceptable
for them (it was not: the rank correlation of the maps with fp32's is too low, see the README).

Memory is the peak increase of the process's RSS sampled every 5 ms (``PeakRss``): memory the allocator already held
from earlier steps is reused and not counted, so it is a lower bound. On CUDA it is ``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import time
from typing import Any, Optional

import torch

from bench.sections.common import PHOTOS, PeakRss, Plan, _sync
from bench.sections.machine import bf16_native
from googlenet.inference import Engine


def attribution_section(engine: Engine, plan: Plan) -> dict:
    """Seconds, images evaluated and peak memory of each attribution method, plus :func:`bf16_attribution_check`."""
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
