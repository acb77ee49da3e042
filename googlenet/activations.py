"""Capturing what every branch of every Inception module computed, in one forward pass and without hooks.

Why no hooks: hooks live on module objects, and the model is shared by every request of the app. A hook registered
for one request also fires for another request's forward pass running at the same moment on another thread, and
records the wrong image (measured: 4 of 40 concurrent runs wrong). Instead, :func:`capture` walks the network's
layers itself (:data:`~googlenet.model.GoogLeNet.TRUNK`, the same order ``GoogLeNet.forward`` uses) and asks each
Inception module for its four branch outputs (``Inception.forward_branches``) before concatenating them. Everything
it records lives in local variables of that call, so concurrent requests cannot see each other's activations, and the
cost is exactly one forward pass.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch
from torch import Tensor

from .model import BRANCHES, INCEPTION_MODULES, GoogLeNet, Inception

__all__ = [
    "Capture",
    "LayerShape",
    "Measure",
    "capture",
    "branch_shares",
    "overview_shares",
    "branch_offsets",
]


@dataclass(frozen=True)
class LayerShape:
    """One row of the shape table: a layer (or a branch) and its output shape for this image."""

    name: str  # e.g. "conv1", "maxpool2", "inception4a", "inception4a.branch2"
    shape: tuple[int, ...]  # C x H x W (batch dimension dropped)


@dataclass(frozen=True)
class Capture:
    """All 36 branch outputs (and the logits) of one image, as compact numpy arrays for per-user state.

    ``branches[module][i]`` is branch ``i + 1``'s output for the first image of the batch, C x H x W. They are stored
    as float16 (half the memory in ``gr.State``; ample precision for pictures and shares); the exact float32 tensors
    are available from :func:`capture` with ``keep_tensors=True`` for tests and numerical work.
    """

    logits: np.ndarray  # 1000, float32
    branches: Mapping[str, tuple[np.ndarray, ...]]  # module -> 4 x (C_b x H x W), float16
    layer_shapes: tuple[LayerShape, ...]
    input_size: tuple[int, int]  # H, W of the network input

    def module_output(self, module: str) -> np.ndarray:
        """The module's output (its four branches concatenated along channels): C x H x W."""
        return np.concatenate(self.branches[module], axis=0)

    @property
    def nbytes(self) -> int:
        return self.logits.nbytes + sum(a.nbytes for parts in self.branches.values() for a in parts)


@dataclass(frozen=True)
class TensorCapture:
    """The exact float32 tensors, batch dimension kept (N x C x H x W)."""

    logits: Tensor
    branches: Mapping[str, tuple[Tensor, Tensor, Tensor, Tensor]]
    module_inputs: Mapping[str, Tensor]


def _run(model: GoogLeNet, x: Tensor) -> tuple[TensorCapture, tuple[LayerShape, ...]]:
    shapes: list[LayerShape] = [LayerShape("input", tuple(x.shape[1:]))]
    branches: dict[str, tuple[Tensor, Tensor, Tensor, Tensor]] = {}
    inputs: dict[str, Tensor] = {}
    x = model._transform_input(x)
    for name in model.TRUNK:
        layer = getattr(model, name)
        if isinstance(layer, Inception):
            inputs[name] = x
            parts = tuple(layer.forward_branches(x))  # 4 x (N x C_b x H x W)
            branches[name] = parts  # type: ignore[assignment]
            for branch, part in zip(BRANCHES, parts):
                shapes.append(LayerShape(f"{name}.{branch}", tuple(part.shape[1:])))
            x = torch.cat(parts, dim=1)  # exactly what Inception.forward returns
        else:
            x = layer(x)
        shapes.append(LayerShape(name, tuple(x.shape[1:])))
    # N x 1024 x 7 x 7 (for a 224 input)
    logits = model.classifier(x)  # N x 1000 (dropout is inactive: the shared model is in eval mode)
    shapes += [LayerShape("avgpool", (x.shape[1], 1, 1)), LayerShape("fc", tuple(logits.shape[1:]))]
    return TensorCapture(logits, branches, inputs), tuple(shapes)


def capture_tensors(model: GoogLeNet, x: Tensor) -> tuple[TensorCapture, tuple[LayerShape, ...]]:
    """The exact float32 capture of a batch ``x`` (N x 3 x H x W), under ``torch.inference_mode``."""
    if model.training:
        raise ValueError("capture runs the shared model in eval mode; it must not be in train mode")
    with torch.inference_mode():
        return _run(model, x)


def capture(model: GoogLeNet, x: Tensor) -> Capture:
    """One forward pass of the first image of ``x`` (1 x 3 x H x W), keeping all 36 branch outputs."""
    tensors, shapes = capture_tensors(model, x[:1])
    # Convert with torch (multi-threaded, one pass, also undoing channels_last): 7x faster than numpy's astype.
    branches = {
        module: tuple(part[0].to(dtype=torch.float16, memory_format=torch.contiguous_format).cpu().numpy()
                      for part in parts)
        for module, parts in tensors.branches.items()
    }
    return Capture(
        logits=tensors.logits[0].float().cpu().numpy(),
        branches=branches,
        layer_shapes=shapes,
        input_size=(int(x.shape[2]), int(x.shape[3])),
    )


class Measure(str, enum.Enum):
    """How a branch's share of its module's output is measured. Each is named for what it computes."""

    # Sum of the branch's activations / sum over the module: its share of the total activation mass. Branches with
    # more channels weigh more, as they do in what the next layer receives.
    ACTIVATION_SUM = "activation_sum"
    # Mean activation per channel of the branch, normalized over the four branches: independent of channel counts.
    MEAN_ACTIVATION = "mean_activation"
    # Sum of squared activations (L2 energy) / the module's: dominated by the strongest responses.
    L2_ENERGY = "l2_energy"


def _branch_score(part: np.ndarray, measure: Measure) -> float:
    values = part.astype(np.float64)  # C x H x W; float64 so sums of float16 values stay exact enough
    if measure is Measure.ACTIVATION_SUM:
        return float(values.sum())
    if measure is Measure.MEAN_ACTIVATION:
        return float(values.mean())
    if measure is Measure.L2_ENERGY:
        return float(np.square(values).sum())
    raise ValueError(f"unknown measure {measure!r}")


def branch_shares(parts: tuple[np.ndarray, ...], measure: Measure | str) -> np.ndarray:
    """The four branches' shares of one module by ``measure``: non-negative, summing to 1.

    Branch outputs come after a ReLU, so every score is >= 0. A module whose output is all zero (possible with
    untrained weights) gets equal shares rather than a division by zero.
    """
    measure = Measure(measure)
    scores = np.array([_branch_score(p, measure) for p in parts], dtype=np.float64)
    total = scores.sum()
    if total <= 0:
        return np.full(len(parts), 1.0 / len(parts))
    return scores / total


def overview_shares(cap: Capture, measure: Measure | str) -> np.ndarray:
    """9 x 4 matrix of branch shares (modules in network order, branches 1..4); each row sums to 1."""
    return np.stack([branch_shares(cap.branches[m], measure) for m in INCEPTION_MODULES])


def branch_offsets(cap: Capture, module: str) -> tuple[int, ...]:
    """Index of each branch's first channel within the module's concatenated output."""
    sizes = [p.shape[0] for p in cap.branches[module]]
    return tuple(int(v) for v in np.cumsum([0] + sizes[:-1]))
