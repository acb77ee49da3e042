"""What an attribution costs: images through the network, and seconds per image on this machine."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Cost", "Throughput", "faithfulness_cost", "occlusion_positions"]


@dataclass(frozen=True)
class Cost:
    """Images sent through the network: ``forward`` forward passes, ``backward`` of them also backward."""

    forward: int
    backward: int

    @property
    def passes(self) -> int:
        """Forward plus backward passes (one image each)."""
        return self.forward + self.backward

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.forward + other.forward, self.backward + other.backward)

    def __mul__(self, k: int) -> "Cost":
        return Cost(self.forward * k, self.backward * k)

    def to_json(self) -> dict:
        return {"forward": self.forward, "backward": self.backward, "passes": self.passes}


@dataclass(frozen=True)
class Throughput:
    """Measured seconds per image: forward only, and forward+backward."""

    forward_s: float
    backward_s: float  # forward + backward of one image

    def seconds(self, cost: Cost) -> float:
        return (cost.forward - cost.backward) * self.forward_s + cost.backward * self.backward_s


def faithfulness_cost(steps: int) -> Cost:
    """Deletion and insertion curves: ``steps + 1`` images each."""
    return Cost(forward=2 * (steps + 1), backward=0)


def occlusion_positions(size: int, window: int, stride: int) -> int:
    """Captum's Occlusion: ``ceil((size - window) / stride) + 1`` window positions along one dimension."""
    return int(math.ceil((size - window) / stride)) + 1
