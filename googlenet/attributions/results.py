"""What an attribution run returns: maps, the numbers behind them, and notes (keyed messages) for the reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..messages import Message
from .cost import Cost
from .faithfulness import Faithfulness
from .settings import AttributionSettings

__all__ = ["AttributionResult", "BranchAttribution", "SanityStep", "SanityResult"]


@dataclass
class AttributionResult:
    settings: AttributionSettings  # as run (resolved, possibly scaled down)
    target: int
    attributions: np.ndarray = field(repr=False)  # 3 x H x W (Layer GradCAM: 1 x H x W), float32
    map: np.ndarray = field(repr=False)  # H x W: summed over channels (signed)
    cost: Cost  # declared
    counted_forward: int  # images that really went forward (checked against the cost in tests)
    elapsed_s: float
    convergence_delta: Optional[float] = None  # Integrated Gradients: sum(attr) - (f(x) - f(baseline))
    target_logit: Optional[float] = None  # f(x) for the target
    baseline_logit: Optional[float] = None  # f(baseline), Integrated Gradients only
    faithfulness: Optional[Faithfulness] = None
    notes: list[Message] = field(default_factory=list)

    def to_json(self) -> dict:
        out = {
            "method": self.settings.method,
            "settings": self.settings.to_json(),
            "target": self.target,
            "cost": self.cost.to_json(),
            "elapsed_s": round(self.elapsed_s, 3),
            "map_sum": float(self.map.sum()),
            "map_abs_max": float(np.abs(self.map).max()),
            "target_logit": self.target_logit,
            "notes": [str(note) for note in self.notes],
        }
        if self.convergence_delta is not None:
            out["convergence_delta"] = self.convergence_delta
            out["baseline_logit"] = self.baseline_logit
        if self.faithfulness is not None:
            out["faithfulness"] = self.faithfulness.to_json()
        return out


@dataclass
class BranchAttribution:
    """How much each branch of each Inception module contributed to the target logit."""

    method: str
    target: int
    modules: tuple[str, ...]
    branches: tuple[str, ...]
    values: np.ndarray  # len(modules) x 4: summed attribution of each branch (logit units)
    maps: dict[str, np.ndarray] = field(repr=False)  # module -> 4 x h x w (channel-summed, at the module's size)
    cost: Cost
    elapsed_s: float
    deltas: Optional[list[float]] = None  # layer IG: per-module convergence delta
    notes: list[Message] = field(default_factory=list)

    def share(self) -> np.ndarray:
        """Each branch's share of its module's total absolute attribution (rows sum to 1)."""
        totals = np.abs(self.values).sum(axis=1, keepdims=True)
        return np.divide(np.abs(self.values), totals, out=np.zeros_like(self.values), where=totals > 0)

    def to_json(self) -> dict:
        share = self.share()
        return {
            "method": self.method,
            "target": self.target,
            "cost": self.cost.to_json(),
            "elapsed_s": round(self.elapsed_s, 3),
            "modules": {
                m: {
                    "branches": {b: float(self.values[i, j]) for j, b in enumerate(self.branches)},
                    "share": {b: float(share[i, j]) for j, b in enumerate(self.branches)},
                    **({"convergence_delta": self.deltas[i]} if self.deltas else {}),
                }
                for i, m in enumerate(self.modules)
            },
            "notes": [str(note) for note in self.notes],
        }


@dataclass(frozen=True)
class SanityStep:
    block: str  # the block randomised at this step (cascading: this one and every block above it)
    map: np.ndarray = field(repr=False)  # H x W
    spearman_abs: float  # rank correlation of |map| with |original map|
    spearman_signed: float  # rank correlation of the signed maps


@dataclass
class SanityResult:
    settings: AttributionSettings
    mode: str
    target: int
    original: np.ndarray = field(repr=False)  # H x W
    steps: list[SanityStep]
    cost: Cost
    elapsed_s: float
    notes: list[Message] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "test": "model parameter randomisation (Adebayo et al. 2018)",
            "method": self.settings.method,
            "settings": self.settings.to_json(),
            "mode": self.mode,
            "target": self.target,
            "cost": self.cost.to_json(),
            "elapsed_s": round(self.elapsed_s, 3),
            "steps": [{"randomised": s.block, "spearman_abs": round(s.spearman_abs, 4),
                       "spearman_signed": round(s.spearman_signed, 4)} for s in self.steps],
            "notes": [str(note) for note in self.notes],
        }
