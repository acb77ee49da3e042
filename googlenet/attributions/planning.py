"""Cost before running, and the time budget: how long settings would take here, and how to scale them down.

The declared cost of every method is exact for our implementation (``tests/googlenet/attributions`` count the
images that really go through), so the page can show it before a run and bound it with a time budget.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from ..messages import Message
from .cost import Cost, Throughput
from .errors import BudgetExceeded
from .settings import MIN_STEPS, AttributionSettings

__all__ = ["Estimate", "declared_cost", "fit_to_budget", "MAX_OCCLUSION_STRIDE"]

MAX_OCCLUSION_STRIDE = 112
REFERENCE_PIXELS = 224 * 224  # the throughput is measured at 224x224; other sizes scale by their pixel count


def declared_cost(settings: AttributionSettings, size: tuple[int, int] = (224, 224)) -> Cost:
    """Images forward and backward one attribution will take (the target's top-1 look-up not included)."""
    s = settings.resolved()
    return s.spec.cost(s, size)


@dataclass(frozen=True)
class Estimate:
    settings: AttributionSettings  # resolved, possibly scaled down to fit the budget
    cost: Cost
    seconds: Optional[float]  # estimated from this machine's measured throughput (None: not measured yet)
    note: Optional[Message] = None  # set when the settings were scaled down

    def to_json(self) -> dict:
        return {"settings": self.settings.to_json(), "cost": self.cost.to_json(),
                "estimated_seconds": None if self.seconds is None else round(self.seconds, 1),
                "note": None if self.note is None else str(self.note)}


def fit_to_budget(settings: AttributionSettings, budget_s: Optional[float], throughput: Optional[Throughput],
                  size: tuple[int, int] = (224, 224), *, multiplier: int = 1,
                  extra: Cost = Cost(0, 0)) -> Estimate:
    """The settings scaled down until the estimated time fits ``budget_s`` (None: no budget).

    Steps/samples are halved (down to 4); Occlusion's stride (and window, which must cover the stride) grow.
    ``multiplier``/``extra`` account for repeated runs (the sanity check) and added passes (faithfulness).
    ``throughput`` None: nothing measured, no estimate (allowed only without a budget).
    Raises :class:`BudgetExceeded` if even the smallest settings would not fit.
    """
    s = settings.resolved()

    def total(st: AttributionSettings) -> Cost:
        return declared_cost(st, size) * multiplier + extra

    if throughput is None:
        if budget_s is not None:
            raise ValueError("a budget needs a measured throughput")
        return Estimate(s, total(s), None)
    scale = (size[0] * size[1]) / REFERENCE_PIXELS

    def seconds(st: AttributionSettings) -> float:
        return throughput.seconds(total(st)) * scale

    original = s
    if budget_s is None or seconds(s) <= budget_s:
        return Estimate(s, total(s), seconds(s))
    while seconds(s) > budget_s:
        if s.steps is not None and s.steps > MIN_STEPS:
            s = replace(s, steps=max(MIN_STEPS, s.steps // 2))
        elif s.stride is not None and s.stride < min(MAX_OCCLUSION_STRIDE, min(size) // 2):
            stride = min(s.stride * 2, MAX_OCCLUSION_STRIDE, min(size) // 2)
            s = replace(s, stride=stride, window=min(max(s.window, stride), min(size)))
        else:
            raise BudgetExceeded("errors.budget_exceeded", method=Message(f"attributions.method.{s.method}"),
                                 seconds=round(seconds(s)), budget=round(budget_s))
    changes = [Message("attributions.note.change", {"setting": Message(f"attributions.setting.{name}"),
                                                    "before": getattr(original, name), "after": getattr(s, name)})
               for name in ("steps", "window", "stride") if getattr(original, name) != getattr(s, name)]
    note = Message("attributions.note.scaled", {"budget": round(budget_s), "changes": tuple(changes),
                                                "before": round(seconds(original)), "after": round(seconds(s))})
    return Estimate(s, total(s), seconds(s), note)

