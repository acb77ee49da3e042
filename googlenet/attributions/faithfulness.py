"""Faithfulness of a map: the deletion and insertion curves of Petsiuk et al. ("RISE", BMVC 2018).

Remove (or insert) pixels in the order the map ranks them and follow the target-class softmax probability. A
faithful map makes the probability fall fast on deletion (low deletion AUC) and rise fast on insertion (high
insertion AUC).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from .baselines import blur

__all__ = ["Faithfulness", "deletion_insertion"]


@dataclass(frozen=True)
class Faithfulness:
    """Deletion and insertion curves of the target-class softmax probability."""

    fractions: list[float]  # fraction of pixels removed / inserted, 0..1
    deletion: list[float]  # probability after deleting the top-ranked fraction (replaced by the ImageNet mean)
    insertion: list[float]  # probability after inserting the top-ranked fraction into a blurred copy
    deletion_auc: float  # lower = more faithful
    insertion_auc: float  # higher = more faithful
    ranking: str  # "signed" (most positive first) or "absolute"

    @property
    def score(self) -> float:
        """Insertion AUC minus deletion AUC: one number, higher = more faithful (a random ranking gives ~0)."""
        return self.insertion_auc - self.deletion_auc

    def to_json(self) -> dict:
        return {
            "measure": "deletion/insertion AUC of the target softmax probability (Petsiuk et al. 2018)",
            "ranking": self.ranking,
            "deletion_auc": round(self.deletion_auc, 5),
            "insertion_auc": round(self.insertion_auc, 5),
            "score": round(self.score, 5),
            "fractions": [round(f, 4) for f in self.fractions],
            "deletion": [round(v, 5) for v in self.deletion],
            "insertion": [round(v, 5) for v in self.insertion],
        }


def _auc(fractions: np.ndarray, values: np.ndarray) -> float:
    return float(np.sum((values[1:] + values[:-1]) * np.diff(fractions)) / 2.0)


@torch.inference_mode()
def deletion_insertion(
    forward: Callable[[Tensor], Tensor],
    x: Tensor,
    attribution_map: np.ndarray,
    target: int,
    *,
    steps: int = 10,
    absolute: bool = False,
    batch_size: int = 8,
    seed: int = 0,
) -> Faithfulness:
    """Deletion and insertion curves for one map.

    Pixels are ranked by the map (most positive first, or by absolute value when ``absolute``; ties broken at
    random with a fixed seed, so a blocky Layer GradCAM map is not favoured by scan order). Deletion replaces the
    top-ranked fraction with the ImageNet mean colour (0 after normalization); insertion pastes it into a blurred
    copy. Each curve has ``steps + 1`` points from 0 % to 100 %; the forward passes run in batches.
    """
    # x: 1 x 3 x H x W (normalized)
    h, w = x.shape[-2:]
    if attribution_map.shape != (h, w):
        raise ValueError(f"map shape {attribution_map.shape} does not match the input's {(h, w)}")
    scores = np.abs(attribution_map) if absolute else attribution_map
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(scores.size), -scores.ravel()))  # best first; random tie-break
    ranks = np.empty(scores.size, dtype=np.int64)
    ranks[order] = np.arange(scores.size)
    ranks_t = torch.from_numpy(ranks.reshape(1, 1, h, w)).to(x.device)
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = torch.tensor([int(round(f * h * w)) for f in fractions], device=x.device).view(-1, 1, 1, 1)
    masks = (ranks_t < counts).to(x.dtype)  # S x 1 x H x W: 1 where the pixel is among the top fraction
    empty = torch.zeros_like(x)  # the ImageNet mean colour
    blurred = blur(x)
    deleted = x * (1 - masks) + empty * masks  # S x 3 x H x W
    inserted = blurred * (1 - masks) + x * masks
    probabilities = []
    for batch in torch.cat([deleted, inserted]).split(batch_size):
        probabilities.append(forward(batch).float().softmax(dim=1)[:, target].cpu())
    p = torch.cat(probabilities).numpy()
    deletion, insertion = p[: steps + 1], p[steps + 1:]
    return Faithfulness(
        fractions=fractions.tolist(),
        deletion=deletion.tolist(),
        insertion=insertion.tolist(),
        deletion_auc=_auc(fractions, deletion),
        insertion_auc=_auc(fractions, insertion),
        ranking="absolute" if absolute else "signed",
    )
