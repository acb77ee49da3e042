"""A unit of the network: one channel of one branch of one Inception module, and where it sits.

Feature visualization, dataset examples and the branch drill-down all name a unit the way ``/branches`` reports its
``top_channels``: the module, the branch and the channel's index *within that branch*. Its index within the module's
concatenated output follows from the branch widths, which are read from the model (never written down here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import torch.nn as nn

from .messages import KeyedError
from .model import BRANCHES, INCEPTION_MODULES, ConvBlock, GoogLeNet, Inception

__all__ = ["Unit", "UnitLocation", "UnitError", "branch_widths", "channel_index", "locate", "all_units"]


class UnitError(KeyedError, ValueError):
    """A module, branch or channel that does not name a unit of this network."""


@dataclass(frozen=True, order=True)
class Unit:
    """One channel of one branch: ``inception4a``, ``branch2``, channel 17 of that branch's output."""

    module: str
    branch: str
    channel: int

    @property
    def key(self) -> str:
        """``inception4a.branch2.17``: a stable name for files, caches and indexes."""
        return f"{self.module}.{self.branch}.{self.channel}"


@dataclass(frozen=True)
class UnitLocation:
    """Where a unit's channel sits: its branch's width and offset within the module's concatenated output."""

    unit: Unit
    branch_channels: int
    offset: int
    module_channels: int

    @property
    def module_channel(self) -> int:
        """The channel's index within the module's output (the concatenation of its four branches)."""
        return self.offset + self.unit.channel


def _inception(model: GoogLeNet, module: str) -> Inception:
    if module not in INCEPTION_MODULES:
        raise UnitError("errors.unknown_module", value=module, choices=", ".join(INCEPTION_MODULES))
    return getattr(model, module)


def branch_widths(model: GoogLeNet, module: str) -> tuple[int, ...]:
    """Output channels of each branch of ``module`` (branch1..branch4), read from its last convolution."""
    inception = _inception(model, module)
    widths = []
    for name in BRANCHES:
        blocks = [m for m in getattr(inception, name).modules() if isinstance(m, ConvBlock)]
        last: nn.Conv2d = blocks[-1].conv
        widths.append(int(last.out_channels))
    return tuple(widths)


def channel_index(value: Any, module: str, branch: str) -> int:
    """A channel index from the page or the API: a whole number (a whole float from a Number box is fine).

    Only its form is checked here, without the model: whether it is within the branch's width is :func:`locate`'s
    check (which raises the same ``errors.channel_range``, with the last valid index).
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not number.is_integer():
        raise UnitError("errors.channel_range", value=value, module=module, branch=branch, last="?")
    return int(number)


def locate(model: GoogLeNet, module: str, branch: str, channel: int) -> UnitLocation:
    """Check that (module, branch, channel) names a unit of ``model`` and say where its channel sits."""
    widths = branch_widths(model, module)
    if branch not in BRANCHES:
        raise UnitError("errors.unknown_branch", value=branch, choices=", ".join(BRANCHES))
    index = BRANCHES.index(branch)
    if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel < widths[index]:
        raise UnitError("errors.channel_range", value=channel, module=module, branch=branch, last=widths[index] - 1)
    return UnitLocation(Unit(module, branch, channel), widths[index], sum(widths[:index]), sum(widths))


def all_units(model: GoogLeNet) -> Iterator[Unit]:
    """Every unit of every branch, in network order (module, then branch, then channel)."""
    for module in INCEPTION_MODULES:
        for branch, width in zip(BRANCHES, branch_widths(model, module)):
            for channel in range(width):
                yield Unit(module, branch, channel)
