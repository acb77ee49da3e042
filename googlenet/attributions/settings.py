"""What an attribution computes: the method, its preset, and the settings the method reads.

Which settings a method reads, and its presets, come from the method's own module (:mod:`.methods`); this module
only validates and fills them in (:meth:`AttributionSettings.resolved`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Optional

import torch

from ..model import INCEPTION_MODULES, STEM
from .errors import AttributionError
from .methods import SPECS, MethodSpec

__all__ = [
    "METHODS",
    "LAYER_METHODS",
    "PRESETS",
    "BASELINES",
    "BRANCH_METHODS",
    "SANITY_MODES",
    "SANITY_BLOCKS",
    "MIN_STEPS",
    "MAX_STEPS",
    "AttributionSettings",
    "spec_of",
    "batch_size_for",
]

METHODS: tuple[str, ...] = tuple(SPECS)
LAYER_METHODS: frozenset[str] = frozenset(name for name, spec in SPECS.items() if spec.uses_layer)
PRESETS: tuple[str, ...] = ("fast", "balanced", "thorough")
BASELINES: tuple[str, ...] = ("black", "mean", "blur")
BRANCH_METHODS: tuple[str, ...] = ("grad_x_activation", "layer_integrated_gradients")
SANITY_MODES: tuple[str, ...] = ("cascading", "independent")
#: Blocks randomised by the sanity check, from the output down (Adebayo et al. randomise top-down): the classifier,
#: each Inception module, then the stem's convolutions together.
SANITY_BLOCKS: tuple[str, ...] = ("fc",) + tuple(reversed(INCEPTION_MODULES)) + ("stem",)
SANITY_STEM: tuple[str, ...] = STEM
MIN_STEPS = 4
MAX_STEPS = 256


def spec_of(method: str) -> MethodSpec:
    """The declaration of ``method`` (raises a keyed error naming the choices)."""
    spec = SPECS.get(method)
    if spec is None:
        raise AttributionError("errors.unknown_method", value=method, choices=", ".join(METHODS))
    return spec


def batch_size_for(device: torch.device) -> int:
    """Images per forward/backward batch that the app uses on ``device``.

    CPU: 4. Measured on a 2-core CPU, IG with 32 steps and faithfulness curves peaked at +190 MB with 4 against
    +351 MB with 8, for 7% more time: half the memory keeps a classroom laptop (and the server under load) inside
    its budget. GPUs keep 8 (memory is not the limit there, launch overhead is).
    """
    return 4 if device.type == "cpu" else 8


@dataclass(frozen=True)
class AttributionSettings:
    """What to compute. ``None`` fields are filled from the preset by :meth:`resolved`."""

    method: str
    preset: str = "balanced"
    layer: str = "inception4e"  # Layer GradCAM / Guided GradCAM: one of the nine Inception modules
    steps: Optional[int] = None  # IG steps; SmoothGrad / GradientShap samples
    window: Optional[int] = None  # Occlusion: square window side, pixels
    stride: Optional[int] = None  # Occlusion: stride, pixels
    baseline: str = "black"  # IG, Occlusion, GradientShap: what "absent" means
    noise: float = 0.15  # SmoothGrad / GradientShap: noise std as a fraction of the input's value range
    internal_batch_size: int = 8  # images per forward/backward batch (bounds memory: IG 50 steps 3.3 -> 1.4 GiB)

    @property
    def spec(self) -> MethodSpec:
        return spec_of(self.method)

    def resolved(self) -> "AttributionSettings":
        """Validate, and fill the fields the method reads from its preset (the others become ``None``)."""
        spec = self.spec
        if self.preset not in PRESETS:
            raise AttributionError("errors.unknown_preset", value=self.preset, choices=", ".join(PRESETS))
        if spec.uses_layer and self.layer not in INCEPTION_MODULES:
            raise AttributionError("errors.unknown_layer", value=self.layer, choices=", ".join(INCEPTION_MODULES))
        if self.baseline not in BASELINES:
            raise AttributionError("errors.unknown_baseline", value=self.baseline, choices=", ".join(BASELINES))
        if not 0.0 <= self.noise <= 1.0:
            raise AttributionError("errors.noise_range")
        if self.internal_batch_size < 1:
            raise AttributionError("errors.batch_size_min")
        out = replace(self, steps=None, window=None, stride=None)
        if spec.steps_presets is not None:
            steps = self.steps or spec.steps_presets[self.preset]
            if not MIN_STEPS <= steps <= MAX_STEPS:
                raise AttributionError("errors.steps_range", low=MIN_STEPS, high=MAX_STEPS, value=steps)
            out = replace(out, steps=steps)
        if spec.occlusion_presets is not None:
            window, stride = spec.occlusion_presets[self.preset]
            window, stride = self.window or window, self.stride or stride
            if window < 1 or stride < 1:
                raise AttributionError("errors.occlusion_positive")
            out = replace(out, window=window, stride=stride)
        return out

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}
