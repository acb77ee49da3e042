"""The network a visualization runs on: a private copy of the layers up to the unit, and nothing after it.

The shared models are never touched (no hook, no mode change): the layers the target needs are deep-copied from the
engine's ``fast`` model (BatchNorm folded, same function) into a :class:`TargetNet`. The layers are derived from
:data:`googlenet.model.TRUNK` (everything before the unit's module), then only the unit's branch: an inception4a
unit runs 8 of the 16 trunk layers and one of its four branches, so early units cost less.

The branch is read **before its last ReLU**: a channel whose pre-activation is negative everywhere on the grey
starting image would have a ReLU output of zero and a zero gradient (a dead start); its pre-activation still has a
gradient that points towards what would make it fire.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Union

import torch
import torch.nn as nn
from torch import Tensor

from ..labels import CATEGORIES, category_index
from ..model import TRUNK, ConvBlock, GoogLeNet
from ..units import Unit, locate

__all__ = ["ClassTarget", "Target", "TargetNet", "class_target", "replica"]


@dataclass(frozen=True, order=True)
class ClassTarget:
    """One ImageNet class: its logit (before the softmax) is the objective."""

    index: int

    @property
    def key(self) -> str:
        """``class.281``: a stable name for files and caches (as :attr:`googlenet.units.Unit.key`)."""
        return f"class.{self.index}"

    @property
    def name(self) -> str:
        return CATEGORIES[self.index]


Target = Union[Unit, ClassTarget]


def class_target(value: Union[int, str]) -> ClassTarget:
    """A class given by its index (``281``, ``"281"``), its name (``"tabby"``, any case) or ``"281: tabby"``;
    anything else is :class:`googlenet.labels.UnknownClass` (a keyed error)."""
    return ClassTarget(category_index(value))


def _branch_blocks(branch: nn.Module) -> list[nn.Module]:
    """A branch as a list of layers whose last one is a ConvBlock (branch1 is a single ConvBlock)."""
    layers = [branch] if isinstance(branch, ConvBlock) else list(branch.children())
    if not isinstance(layers[-1], ConvBlock):
        raise TypeError(f"a branch must end in a ConvBlock, not {type(layers[-1]).__name__}")
    return layers


class TargetNet(nn.Module):
    """Image (N x 3 x H x W, normalized as the weights' preprocessing) -> what the target is read from:

    - a :class:`~googlenet.units.Unit`: its branch's output before the last ReLU, N x C_branch x h x w;
    - a :class:`ClassTarget`: the main head's logits, N x num_classes.
    """

    def __init__(self, model: GoogLeNet, target: Target) -> None:
        super().__init__()
        self.target = target
        self.transform_input = model.transform_input
        if isinstance(target, Unit):
            locate(model, target.module, target.branch, target.channel)  # a keyed error for a bad unit
            names = TRUNK[: TRUNK.index(target.module)]
            branch = getattr(getattr(model, target.module), target.branch)
            self.head = nn.Sequential(*copy.deepcopy(_branch_blocks(branch)))
            self.reads_logits = False
        else:
            names = TRUNK
            self.head = nn.Sequential(copy.deepcopy(model.avgpool), nn.Flatten(1), copy.deepcopy(model.fc))
            self.reads_logits = True
        self.trunk = nn.Sequential(*(copy.deepcopy(getattr(model, name)) for name in names))
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        # the same input conversion as the model (the ported weights expect [-1, 1]); the function is the model's
        x = GoogLeNet._transform_input(self, x)  # type: ignore[arg-type]  (reads only .transform_input)
        x = self.trunk(x)  # N x C_in x h x w: the unit's module's input (or inception5b's output)
        if self.reads_logits:
            return self.head(x)  # N x num_classes (no dropout: eval)
        *before, last = list(self.head.children())
        for layer in before:
            x = layer(x)
        return last.bn(last.conv(x))  # N x C_branch x h x w, before the branch's last ReLU


def replica(model: GoogLeNet, target: Target, device: torch.device) -> TargetNet:
    """A private :class:`TargetNet` for ``target`` on ``device`` (channels_last, as the engine's fast model)."""
    return TargetNet(model, target).to(device, memory_format=torch.channels_last)
