"""Helpers of the photo-index tests (tests/googlenet/photo_index, tests/webui/test_unit_examples.py): synthetic
photos and an independent read of every branch output through torchvision's own GoogLeNet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from googlenet.model import BRANCHES, INCEPTION_MODULES

__all__ = ["synthetic_photos", "torchvision_branches"]


def synthetic_photos(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """Photos of different sizes and content: smooth colour gradients with noise and a few stripes."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        h, w = int(rng.integers(180, 320)), int(rng.integers(180, 320))
        yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
        base = np.stack([np.sin(yy * rng.uniform(2, 12)), np.cos(xx * rng.uniform(2, 12)), yy * xx], axis=-1)
        noise = rng.normal(0, rng.uniform(0.05, 0.4), (h, w, 3))
        pixels = np.clip((base * 0.5 + 0.5 + noise) * 255, 0, 255).astype(np.uint8)
        path = folder / f"synthetic-{i:02d}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def torchvision_branches(model, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Every branch output of torchvision's model for ``x`` (N x 3 x 224 x 224), through forward hooks on this
    private copy: ``"inception4a.branch2"`` -> N x C x H x W."""
    outputs: dict[str, np.ndarray] = {}
    handles = []
    for module in INCEPTION_MODULES:
        for branch in BRANCHES:
            key = f"{module}.{branch}"
            layer = getattr(getattr(model, module), branch)
            handles.append(layer.register_forward_hook(
                lambda _m, _i, out, key=key: outputs.__setitem__(key, out.detach().numpy().copy())))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return outputs
