"""The work of the Attributions tab, as it runs under ZeroGPU: one module-level function per heavy event.

Each takes picklable arguments (the services' key, the photo's path, a frozen job description, the target class,
the page's ``gr.Progress``) and returns picklable results (numpy maps in dataclasses, the 224x224 crop). Under
ZeroGPU it runs in a forked worker with a GPU, for the seconds its duration function estimates from the declared
cost (``ZERO_GPU_TIME`` in webui/limits.py); the tab draws the figures afterwards, in the server (drawing needs no
GPU time). spaces forwards ``gr.Progress`` updates from the worker (it replaces Gradio's ``Queue.set_progress``
there), so the progress bar counts the images that really go through the network, as it does without ZeroGPU.
Elsewhere these are plain calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import gradio as gr
from PIL import Image

from googlenet import attributions as attr_lib
from googlenet.attributions import AttributionResult, BudgetExceeded
from googlenet.messages import Message

from ..limits import ZERO_GPU_TIME
from ..services import Services
from ..zerogpu import gpu

__all__ = ["FAITHFULNESS_STEPS", "AttributionJob", "Attributed", "SanityJob", "Sanity", "BranchJob",
           "BranchAttributed", "attributions_on_device", "sanity_on_device", "branch_attribution_on_device"]

FAITHFULNESS_STEPS = 10  # deletion/insertion curves: 11 points each (0 %, 10 %, ... 100 % of the pixels)


@dataclass(frozen=True)
class AttributionJob:
    """One attribution map to compute."""

    settings: attr_lib.AttributionSettings
    budget_s: Optional[float]  # None: no budget
    absolute: bool  # faithfulness curves ranked by |map|
    desc: str  # the progress bar's label, in the reader's language
    start: float = 0.0  # this job's part of the progress bar (several methods side by side)
    span: float = 1.0


@dataclass(frozen=True)
class Attributed:
    crop: Image.Image  # 224 x 224, what the network saw
    results: tuple[AttributionResult, ...]  # one per job, all for the same target class


@dataclass(frozen=True)
class SanityJob:
    settings: attr_lib.AttributionSettings
    mode: str  # cascading / independent
    budget_s: Optional[float]
    desc: str


@dataclass(frozen=True)
class Sanity:
    crop: Image.Image
    result: attr_lib.SanityResult


@dataclass(frozen=True)
class BranchJob:
    method: str  # googlenet.attributions.BRANCH_METHODS
    preset: str
    desc: str
    max_seconds: Optional[float] = None  # refuse when the estimate is over this (the CPU answering for the GPU)


@dataclass(frozen=True)
class BranchAttributed:
    crop: Image.Image
    result: attr_lib.BranchAttribution


def _reporter(progress: Optional[gr.Progress], desc: str, start: float = 0.0,
              span: float = 1.0) -> Optional[attr_lib.ProgressCallback]:
    """Forward the attributor's own step counts to the page's progress bar, labelled in the user's language."""
    if progress is None:
        return None

    def report(fraction: float, _label: str) -> None:
        progress(start + fraction * span, desc=desc)

    return report


def attributions_seconds(services_key: str, path: str, target: Optional[int], jobs: tuple[AttributionJob, ...],
                         progress: Optional[gr.Progress] = None) -> int:
    """ZeroGPU duration of :func:`attributions_on_device`: the declared cost of every job (faithfulness curves
    included), at the throughput the attributor assumes for its device, within ZERO_GPU_TIME's bounds."""
    attributor = Services.find(services_key).attributor
    attributor.throughput()  # under ZeroGPU the assumed GPU one (nothing runs); elsewhere measured once
    extra = attr_lib.faithfulness_cost(FAITHFULNESS_STEPS)
    work = sum(attributor.fit_to_budget(job.settings, job.budget_s, extra=extra).seconds or 0.0 for job in jobs)
    return ZERO_GPU_TIME.seconds(work)


@gpu(duration=attributions_seconds)
def attributions_on_device(services_key: str, path: str, target: Optional[int], jobs: tuple[AttributionJob, ...],
                           progress: Optional[gr.Progress] = None) -> Attributed:
    """Attribution maps of one photo, one per job, each with its faithfulness curves; every map after the first
    explains the class of the first (``target`` None: the top-1 class)."""
    services = Services.find(services_key)
    crop, x = services.engine.prepare(path)
    results = []
    for job in jobs:
        result = services.attributor.attribute(
            x, job.settings, target, budget_s=job.budget_s, faithfulness_steps=FAITHFULNESS_STEPS,
            absolute_ranking=job.absolute, progress=_reporter(progress, job.desc, job.start, job.span))
        target = result.target
        results.append(result)
    return Attributed(crop, tuple(results))


def sanity_seconds(services_key: str, path: str, target: Optional[int], job: SanityJob,
                   progress: Optional[gr.Progress] = None) -> int:
    """ZeroGPU duration of :func:`sanity_on_device`: the method once per randomised block, and once on the original."""
    attributor = Services.find(services_key).attributor
    attributor.throughput()  # under ZeroGPU the assumed GPU one (nothing runs); elsewhere measured once
    plan = attributor.fit_to_budget(job.settings, job.budget_s, multiplier=1 + len(attr_lib.SANITY_BLOCKS))
    return ZERO_GPU_TIME.seconds(plan.seconds or 0.0)


@gpu(duration=sanity_seconds)
def sanity_on_device(services_key: str, path: str, target: Optional[int], job: SanityJob,
                     progress: Optional[gr.Progress] = None) -> Sanity:
    services = Services.find(services_key)
    crop, x = services.engine.prepare(path)
    result = services.attributor.sanity_check(x, job.settings, target, mode=job.mode, budget_s=job.budget_s,
                                              progress=_reporter(progress, job.desc))
    return Sanity(crop, result)


def _branch_estimate(services: Services, job: BranchJob) -> float:
    return services.attributor.throughput().seconds(attr_lib.branch_cost(job.method, job.preset))


def branch_seconds(services_key: str, path: str, target: Optional[int], job: BranchJob,
                   progress: Optional[gr.Progress] = None) -> int:
    """ZeroGPU duration of :func:`branch_attribution_on_device` (one pass, or nine layer-IG runs)."""
    return ZERO_GPU_TIME.seconds(_branch_estimate(Services.find(services_key), job))


@gpu(duration=branch_seconds)
def branch_attribution_on_device(services_key: str, path: str, target: Optional[int], job: BranchJob,
                                 progress: Optional[gr.Progress] = None) -> BranchAttributed:
    services = Services.find(services_key)
    if job.max_seconds is not None:
        seconds = _branch_estimate(services, job)
        if seconds > job.max_seconds:
            raise BudgetExceeded("errors.budget_exceeded",
                                 method=Message(f"attributions.branch_method.{job.method}"),
                                 seconds=round(seconds), budget=round(job.max_seconds))
    crop, x = services.engine.prepare(path)
    result = services.attributor.branch_attribution(
        x, target, method=job.method, preset=job.preset, internal_batch_size=attr_lib.batch_size_for(x.device),
        progress=_reporter(progress, job.desc))
    return BranchAttributed(crop, result)
