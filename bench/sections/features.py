"""Feature visualization: how long a usable image of one unit takes at the default settings, and which objective
each number of steps and image size reaches, side by side, so that the defaults are chosen from measurements.

One render per (unit, size) with the most steps of the grid: a shorter run with the same seed is exactly the
prefix of a longer one (same draws, same Adam steps), so the time and the objective after k steps are read from
the one run. The objective at k steps is the mean of the last 8 steps' objective (each under its random
transform, so one step alone is noisy). "Usable" = the default run's final image; the first preview's time says
when the page shows something. On CUDA, also a 512-step render at the default size (target < 3 s).
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from bench.sections.common import Plan, log
from googlenet.features import DEFAULT_SIZE, DEFAULT_STEPS, FeatureSettings, Preview, Visualization, visualize
from googlenet.inference import Engine
from googlenet.units import Unit

#: The issue's targets on the 2-core CPU at the default settings, and on a GPU.
TARGETS_S = {"inception4a": 10.0, "inception5b": 20.0}
GPU_TARGET_S = 3.0
UNITS = (Unit("inception4a", "branch2", 3), Unit("inception5b", "branch2", 3))


def _timed_run(engine: Engine, unit: Unit, steps: int, size: int) -> dict:
    """Seconds since the start at each step, the objective per step, and the first preview's time."""
    started = time.perf_counter()
    times: list[float] = []
    first_preview = None
    result = None
    for frame in visualize(engine.fast, unit, FeatureSettings(steps=steps, size=size), device=engine.device,
                           preview_every_s=0.0):
        if engine.device.type == "cuda":
            torch.cuda.synchronize(engine.device)
        now = time.perf_counter() - started
        if isinstance(frame, Preview):
            first_preview = now if first_preview is None else first_preview
            if frame.step > 0:
                times.append(now)
        else:
            result = frame
            times.append(now)
    assert isinstance(result, Visualization)
    return {"times": times, "objective": list(result.objective), "first_preview_s": first_preview,
            "total_s": time.perf_counter() - started, "final_activation": result.final_activation[0],
            "start_activation": result.start_activation[0]}


def _reached(run: dict, k: int) -> float:
    return float(np.mean(run["objective"][max(0, k - 8):k]))


def features_section(engine: Engine, plan: Plan) -> dict:
    """Time to a usable image at the defaults (4a and 5b) and the objective each steps x size reaches."""
    steps_grid = (4, 8) if plan.quick else (32, 64, 96, 128)
    sizes = (64,) if plan.quick else (128, 224)
    steps_grid = tuple(sorted(set(steps_grid) | ({DEFAULT_STEPS} if not plan.quick else set())))
    rows, defaults = [], []
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    for unit in UNITS:
        for size in sizes:
            run = _timed_run(engine, unit, max(steps_grid), size)
            for k in steps_grid:
                rows.append({"unit": unit.key, "size": size, "steps": k, "seconds": round(run["times"][k - 1], 2),
                             "objective": round(_reached(run, k), 4)})
            log.info("features %s at %d px: %.1f s for %d steps", unit.key, size, run["total_s"], max(steps_grid))
        default_steps = plan.quick and 4 or DEFAULT_STEPS
        default_size = plan.quick and 64 or DEFAULT_SIZE
        run = _timed_run(engine, unit, default_steps, default_size)  # the page's own run, end to end
        target = TARGETS_S[unit.module]
        defaults.append({"unit": unit.key, "steps": default_steps, "size": default_size,
                         "seconds": round(run["total_s"], 2), "first_preview_s": round(run["first_preview_s"], 3),
                         "activation": [round(run["start_activation"], 3), round(run["final_activation"], 3)],
                         "target_s": target, "within_target": run["total_s"] < target})
    gpu = {"available": False, "reason": "no CUDA device"}
    if engine.device.type == "cuda":
        run = _timed_run(engine, UNITS[0], 8 if plan.quick else 512, DEFAULT_SIZE)
        gpu = {"available": True, "unit": UNITS[0].key, "steps": 8 if plan.quick else 512, "size": DEFAULT_SIZE,
               "seconds": round(run["total_s"], 2), "target_s": GPU_TARGET_S,
               "within_target": run["total_s"] < GPU_TARGET_S}
    return {"available": True, "device": engine.device.type, "load_average_at_start": load, "rows": rows,
            "defaults": defaults, "gpu_512": gpu}
