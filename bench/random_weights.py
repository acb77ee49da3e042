"""Random GoogLeNet weights that behave like a trained network where it matters for tests and benchmarks.

Why calibrate: with a fresh random init, BatchNorm's running statistics (mean 0, var 1) do not match the real
activations, so eval-mode activations shrink layer by layer to almost nothing and any comparison "passes". Running a
few train-mode forwards over random images (``momentum=None``: a plain average) gives statistics that keep
activations at a healthy scale, so parity tests can actually fail. The linear layers are scaled up so that the
logits are spread out (std 0.01 gives a near-uniform softmax, which makes top-k comparisons fragile).
"""

from __future__ import annotations

from pathlib import Path

import torch

from googlenet.model import GoogLeNet

__all__ = ["calibrate_batchnorm", "make_random_model", "save_random_checkpoint"]


def calibrate_batchnorm(model: torch.nn.Module, batches: int = 4, batch_size: int = 8, size: int = 224,
                        seed: int = 0) -> None:
    """Set every BatchNorm's running statistics to the average over random images, then return to eval mode."""
    generator = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(batch_size, 3, size, size, generator=generator))
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 0.1
    model.eval()


def make_random_model(seed: int = 0, *, transform_input: bool = False) -> GoogLeNet:
    """A GoogLeNet with torchvision's random init and calibrated BatchNorm statistics (eval mode)."""
    torch.manual_seed(seed)
    model = GoogLeNet(aux_logits=True, transform_input=transform_input)
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(5.0)
    calibrate_batchnorm(model, seed=seed)
    return model


def save_random_checkpoint(path: Path, seed: int = 0) -> Path:
    """A calibrated random checkpoint in torchvision's file format (a plain state dict, aux heads included)."""
    torch.save(make_random_model(seed).state_dict(), path)
    return path
