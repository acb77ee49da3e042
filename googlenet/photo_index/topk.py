"""The running top-k of every unit: the k photos where each channel fires most, kept as fixed-size arrays.

Why arrays and not Python heaps: there are 5,488 branch channels (for 224x224 inputs). A ``heapq`` per channel would
mean 5,488 Python-level pushes per photo; here each batch is merged into every channel's top-k at once with one
numpy sort of ``k + batch`` candidates per channel, which is what a heap would keep, at a fixed memory of
``units x k`` entries however many photos go through (about 0.6 MB for k = 9).

What one photo contributes to a channel: its strongest position (the maximum of the channel's map over positions,
and where it is). Keeping raw positions instead would fill a channel's top 9 with neighbouring positions of one
photo, which shows one thing nine times.

The order is total, so the result does not depend on how photos were batched, checkpointed, sharded or merged:
higher value first, then the lower photo number (photo numbers are positions in the index's sorted photo list);
empty slots (fewer photos than k) hold ``-inf`` and photo ``-1`` and sort last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = ["TopK", "photo_maxima"]

EMPTY_PHOTO = -1


@dataclass(frozen=True)
class TopK:
    """For each of ``units`` channels (network order), its k best photos: value, photo number, flat position."""

    values: np.ndarray  # U x k float32, descending along k; -inf in empty slots
    photos: np.ndarray  # U x k int32, photo numbers; -1 in empty slots
    positions: np.ndarray  # U x k int32, y * W + x on the branch's output grid

    @classmethod
    def empty(cls, units: int, k: int) -> "TopK":
        return cls(np.full((units, k), -np.inf, dtype=np.float32), np.full((units, k), EMPTY_PHOTO, dtype=np.int32),
                   np.zeros((units, k), dtype=np.int32))

    @property
    def k(self) -> int:
        return int(self.values.shape[1])

    @property
    def units(self) -> int:
        return int(self.values.shape[0])

    def merged(self, values: np.ndarray, photos: np.ndarray, positions: np.ndarray) -> "TopK":
        """This top-k with candidates added (each U x n: n more entries per channel), cut back to k."""
        if values.shape[0] != self.units or values.shape != photos.shape or values.shape != positions.shape:
            raise ValueError(f"candidates of shape {values.shape} for {self.units} units")
        v = np.concatenate([self.values, values.astype(np.float32, copy=False)], axis=1)  # U x (k + n)
        p = np.concatenate([self.photos, photos.astype(np.int32, copy=False)], axis=1)  # U x (k + n)
        q = np.concatenate([self.positions, positions.astype(np.int32, copy=False)], axis=1)  # U x (k + n)
        # The last key is the primary one: value descending, then photo number ascending (empty slots, photo -1,
        # have value -inf and so still come last).
        order = np.lexsort((p, -v), axis=1)[:, : self.k]  # U x k
        return TopK(np.take_along_axis(v, order, axis=1), np.take_along_axis(p, order, axis=1),
                    np.take_along_axis(q, order, axis=1))

    def with_batch(self, values: np.ndarray, positions: np.ndarray, photo_numbers: Sequence[int]) -> "TopK":
        """Add a batch: ``values``/``positions`` are N x U (one row per photo, from :func:`photo_maxima`)."""
        numbers = np.asarray(photo_numbers, dtype=np.int32)  # N
        if values.shape[0] != numbers.shape[0]:
            raise ValueError(f"{values.shape[0]} rows for {numbers.shape[0]} photos")
        photos = np.broadcast_to(numbers[None, :], (values.shape[1], numbers.shape[0]))  # U x N
        return self.merged(values.T, photos, positions.T)

    def renumbered(self, mapping: np.ndarray) -> "TopK":
        """The same entries with photo ``i`` renamed ``mapping[i]`` (empty slots stay empty)."""
        photos = np.where(self.photos >= 0, mapping[np.maximum(self.photos, 0)], EMPTY_PHOTO).astype(np.int32)
        return TopK(self.values, photos, self.positions)

    def union(self, other: "TopK") -> "TopK":
        """The top-k of both (a top-k of top-ks: exact, since each keeps every entry that can be in the result)."""
        if other.values.shape != self.values.shape:
            raise ValueError(f"cannot merge top-k arrays of shapes {self.values.shape} and {other.values.shape}")
        return self.merged(other.values, other.photos, other.positions)


def photo_maxima(parts: Sequence[Tensor]) -> tuple[np.ndarray, np.ndarray]:
    """Each photo's strongest position per channel, for branch outputs in network order (each N x C_b x H x W).

    Returns (values N x U float32, flat positions N x U int32), U = the channels of all parts together. A channel
    whose maximum occurs at several positions reports the first (row-major), as ``torch.max`` does.
    """
    values, positions = [], []
    for part in parts:
        flat = part.float().flatten(2)  # N x C_b x (H * W)
        best, where = flat.max(dim=2)  # N x C_b each
        values.append(best)
        positions.append(where)
    return (torch.cat(values, dim=1).cpu().numpy().astype(np.float32, copy=False),
            torch.cat(positions, dim=1).cpu().numpy().astype(np.int32))
