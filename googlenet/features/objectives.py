"""What each objective reads from the target's output, to be maximized (the loss is its negative).

- ``channel``: the channel's mean over all positions (a unit's response wherever the pattern appears);
- ``neuron``: the channel at the centre position only (one neuron, with its receptive field in the middle);
- ``diversity``: ``channel`` for each of the images of one batch, minus a penalty on how alike the images look to
  the branch: the cosine similarity of their Gram matrices (channel x channel correlations, Lucid's ``diversity``),
  so the images are pushed towards different patterns that all excite the unit;
- ``logit``: a class's logit, before the softmax (the softmax would also reward lowering the other classes).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..units import Unit
from .replica import Target

__all__ = ["unit_values", "objective_value", "DIVERSITY_WEIGHT"]

#: The similarity penalty's weight, relative to the current size of the channel objective (so that it neither
#: vanishes nor dominates, whatever the scale of the unit's activations).
DIVERSITY_WEIGHT = 0.5


def unit_values(output: Tensor, target: Target, objective: str) -> Tensor:
    """Per image (N,): the value the objective maximizes, read from :class:`~.replica.TargetNet`'s output."""
    if isinstance(target, Unit):
        channel = output[:, target.channel]  # N x h x w
        if objective == "neuron":
            h, w = channel.shape[-2:]
            return channel[:, h // 2, w // 2]  # N
        return channel.mean(dim=(1, 2))  # N: channel and diversity
    return output[:, target.index]  # N: logits


def _similarity(output: Tensor) -> Tensor:
    """Mean cosine similarity between the Gram matrices of every pair of images in the batch (a scalar)."""
    n, c = output.shape[:2]
    flat = F.relu(output).reshape(n, c, -1)  # N x C x hw (the branch's output as the next layer sees it)
    grams = torch.bmm(flat, flat.transpose(1, 2)).reshape(n, -1)  # N x C*C
    grams = F.normalize(grams, dim=1)
    cosine = grams @ grams.T  # N x N
    off_diagonal = cosine.sum() - cosine.diagonal().sum()
    return off_diagonal / (n * (n - 1))


def objective_value(output: Tensor, target: Target, objective: str) -> tuple[Tensor, Tensor]:
    """(the scalar to maximize, the per-image values): the mean of :func:`unit_values`, with the diversity
    penalty for ``diversity``."""
    values = unit_values(output, target, objective)  # N
    total = values.mean()
    if objective == "diversity" and output.shape[0] > 1:
        weight = DIVERSITY_WEIGHT * total.detach().abs().clamp(min=1e-3)
        total = total - weight * _similarity(output)
    return total, values
