"""The optimization: a generator that yields previews while it runs, then the finished visualization.

Every step: the Fourier image (:mod:`.parameterization`) -> random transforms (:mod:`.transforms`) -> the weights'
own normalization -> the private truncated network (:mod:`.replica`) -> the objective (:mod:`.objectives`) ->
one Adam step on the Fourier coefficients. All randomness comes from one generator seeded with the settings' seed,
so the same seed gives the same bytes (on the same device and build of PyTorch).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Iterator, Optional, Union

import numpy as np
import torch
from torch import Tensor

from ..model import GoogLeNet
from ..transforms import PREPROCESS, Preprocess
from .objectives import objective_value, unit_values
from .parameterization import FourierImage
from .replica import ClassTarget, Target, TargetNet, replica
from .settings import CLASS_OBJECTIVE, FeatureSettings
from .transforms import Transforms

__all__ = ["Preview", "Visualization", "visualize", "final", "to_uint8", "PREVIEW_EVERY_S"]

log = logging.getLogger(__name__)

#: Seconds between two previews (the first one is the starting image, at once).
PREVIEW_EVERY_S = 1.0


@dataclass(frozen=True)
class Preview:
    """The images as they are after ``step`` of ``steps`` steps (uint8, H x W x 3 each)."""

    step: int
    steps: int
    images: tuple[np.ndarray, ...]
    objective: float


@dataclass(frozen=True)
class Visualization:
    """A finished visualization: the images and what the optimization measured on the way."""

    target: Target
    settings: FeatureSettings
    images: tuple[np.ndarray, ...]  # uint8, size x size x 3, no axes or text drawn on them
    objective: tuple[float, ...]  # the objective at each step (under that step's random transform)
    start_activation: tuple[float, ...]  # per image: the unit's value (as the objective reads it) at the start
    final_activation: tuple[float, ...]  # ... and on the finished image, as saved (uint8), untransformed
    seconds: float
    device: str

    def to_json(self) -> dict:
        return {
            "target": self.target.key,
            "settings": self.settings.as_dict(),
            "objective_per_step": [round(v, 6) for v in self.objective],
            "activation_start": [round(v, 6) for v in self.start_activation],
            "activation_final": [round(v, 6) for v in self.final_activation],
            "seconds": round(self.seconds, 3),
            "device": self.device,
        }


def to_uint8(images: Tensor) -> tuple[np.ndarray, ...]:
    """N x 3 x H x W in [0, 1] -> N arrays of H x W x 3 uint8."""
    array = (images.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    return tuple(np.ascontiguousarray(a) for a in array)


def _from_uint8(images: tuple[np.ndarray, ...], device: torch.device) -> Tensor:
    x = torch.from_numpy(np.stack(images)).to(device).permute(0, 3, 1, 2).float() / 255  # N x 3 x H x W
    return x


class _Normalize:
    def __init__(self, spec: Preprocess, device: torch.device) -> None:
        self.mean = torch.tensor(spec.mean, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(spec.std, device=device).view(1, 3, 1, 1)

    def __call__(self, x: Tensor) -> Tensor:
        return ((x - self.mean) / self.std).contiguous(memory_format=torch.channels_last)


def _measure(net: TargetNet, normalize: _Normalize, images: Tensor, target: Target, objective: str) -> list[float]:
    with torch.no_grad():
        return [float(v) for v in unit_values(net(normalize(images)), target, objective)]


def visualize(model: GoogLeNet, target: Target, settings: FeatureSettings, *, device: Optional[torch.device] = None,
              spec: Preprocess = PREPROCESS, transforms: Transforms = Transforms(),
              preview_every_s: float = PREVIEW_EVERY_S) -> Iterator[Union[Preview, Visualization]]:
    """Optimize an image for ``target`` on a private copy of ``model``'s layers (``model`` itself is only read).

    Yields a :class:`Preview` of the starting image at once, then one about every ``preview_every_s`` seconds,
    and the :class:`Visualization` last. ``target`` is a unit (checked: a keyed error for a bad one) or a class.
    """
    started = time.perf_counter()
    device = device or next(model.parameters()).device
    objective = CLASS_OBJECTIVE if isinstance(target, ClassTarget) else settings.objective
    net = replica(model, target, device)
    normalize = _Normalize(spec, device)
    generator = torch.Generator().manual_seed(settings.seed)
    image = FourierImage(settings.images, settings.size, generator).to(device)
    optimizer = torch.optim.Adam(image.parameters(), lr=settings.lr)
    with torch.no_grad():
        start = image()  # N x 3 x S x S
    start_activation = _measure(net, normalize, _from_uint8(to_uint8(start), device), target, objective)
    yield Preview(0, settings.steps, to_uint8(start), float(np.mean(start_activation)))
    history: list[float] = []
    last_preview = time.perf_counter()
    for step in range(1, settings.steps + 1):
        optimizer.zero_grad(set_to_none=True)
        pixels = image()  # N x 3 x S x S
        moved = transforms(pixels, generator)  # N x 3 x (S + 2 pad) x (S + 2 pad)
        total, _ = objective_value(net(normalize(moved)), target, objective)
        (-total).backward()
        optimizer.step()
        history.append(float(total.detach()))
        now = time.perf_counter()
        if now - last_preview >= preview_every_s and step < settings.steps:
            last_preview = now
            yield Preview(step, settings.steps, to_uint8(pixels), history[-1])
    with torch.no_grad():
        images = to_uint8(image())
    final_activation = _measure(net, normalize, _from_uint8(images, device), target, objective)
    seconds = time.perf_counter() - started
    log.info("visualized %s (%s, %d steps, %d px) in %.1f s: %.3g -> %.3g", target.key, objective, settings.steps,
             settings.size, seconds, np.mean(start_activation), np.mean(final_activation))
    yield Visualization(target, settings, images, tuple(history), tuple(start_activation), tuple(final_activation),
                        seconds, device.type)


def final(frames: Iterator[Union[Preview, Visualization]]) -> Visualization:
    """The :class:`Visualization` at the end of :func:`visualize` (the previews skipped)."""
    result = None
    for frame in frames:
        result = frame
    if not isinstance(result, Visualization):
        raise RuntimeError("the visualization ended without a result")
    return result
