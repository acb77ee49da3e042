"""The model-randomisation sanity check of Adebayo et al. (NeurIPS 2018, "Sanity checks for saliency maps").

Randomise the weights from the top of the network down (cascading) or one block at a time (independent), recompute
the map, and compare it with the original by Spearman rank correlation. A map that stays the same when the weights
it is meant to explain are destroyed explains nothing.
"""

from __future__ import annotations

import copy
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn as nn

from .errors import AttributionError
from .results import SanityStep
from .settings import SANITY_BLOCKS, SANITY_MODES, SANITY_STEM
from .stats import spearman

__all__ = ["check_blocks", "block_modules", "randomise", "randomisation_steps"]


def check_blocks(mode: str, blocks: Sequence[str]) -> None:
    if mode not in SANITY_MODES:
        raise AttributionError("errors.unknown_sanity_mode", value=mode, choices=", ".join(SANITY_MODES))
    for block in blocks:
        if block not in SANITY_BLOCKS:
            raise AttributionError("errors.unknown_sanity_block", value=block, choices=", ".join(SANITY_BLOCKS))


def block_modules(model: nn.Module, block: str) -> list[nn.Module]:
    """The modules whose weights make up ``block`` ("stem": the convolutions before the first Inception module)."""
    if block == "stem":
        return [getattr(model, name) for name in SANITY_STEM]
    return [getattr(model, block)]


def randomise(modules: Sequence[nn.Module], generator: torch.Generator) -> None:
    """Redraw every parameter from a normal distribution with that tensor's own mean and std.

    Keeping each tensor's scale (rather than e.g. Kaiming's) keeps the activations of a BatchNorm-folded network in
    range, so the randomised maps are not trivially zero.
    """
    with torch.no_grad():
        for module in modules:
            for p in module.parameters():
                std = float(p.std()) if p.numel() > 1 else 0.0
                noise = torch.randn(p.shape, generator=generator, dtype=p.dtype)
                p.copy_((noise * std + float(p.mean())).to(p.device))


def randomisation_steps(model: nn.Module, original: np.ndarray, compute: Callable[[], np.ndarray], *, mode: str,
                        blocks: Sequence[str], generator: torch.Generator) -> list[SanityStep]:
    """Randomise ``model`` (a disposable private copy) block by block and recompute the map after each step.

    ``cascading``: every step keeps the earlier blocks randomised; ``independent``: each block alone, the others
    restored. Each step reports the Spearman correlation of |map| and of the signed map with ``original``.
    """
    steps: list[SanityStep] = []
    for block in blocks:
        modules = block_modules(model, block)
        saved = [copy.deepcopy(m.state_dict()) for m in modules] if mode == "independent" else None
        randomise(modules, generator)
        randomised = compute()
        steps.append(SanityStep(block, randomised, spearman(np.abs(original), np.abs(randomised)),
                                spearman(original, randomised)))
        if saved is not None:
            for m, state in zip(modules, saved):
                m.load_state_dict(state)
    return steps
