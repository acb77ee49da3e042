"""The attribution methods, one per module; :data:`SPECS` lists them in the order the page offers them.

DeepLift/DeepLiftShap are deliberately absent: Captum's MaxPool rule on the stride-1 max-pool branch gives
near-zero attributions on this architecture (measured).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from . import (
    gradient_shap,
    guided_backprop,
    guided_gradcam,
    integrated_gradients,
    layer_gradcam,
    occlusion,
    saliency,
    smoothgrad,
)
from .base import MethodOutput, MethodSpec, RunContext

__all__ = ["SPECS", "MethodSpec", "MethodOutput", "RunContext"]

SPECS: Mapping[str, MethodSpec] = MappingProxyType({m.SPEC.name: m.SPEC for m in (
    integrated_gradients, saliency, smoothgrad, gradient_shap, occlusion, guided_backprop, guided_gradcam,
    layer_gradcam)})
