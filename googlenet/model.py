"""GoogLeNet (Inception v1), built from the seed notebook's ``ConvBlock``, ``Inception`` and ``InceptionAux``.

The structure follows the seed notebook (``../shared/seed``) and torchvision's ``models/googlenet.py``. Four defects
of the seed are fixed here, each covered by a regression test in ``tests/test_model.py``:

1. The seed ends with ``AvgPool2d(kernel_size=8)``, which only fits a 224x224 input. We use
   ``AdaptiveAvgPool2d((1, 1))`` so any input from 15x15 up (square or not) works.
2. The seed applies dropout *after* the final linear layer, which randomly zeroes logits. Dropout belongs before it.
3. In train mode the seed returns only ``(aux1, aux2)`` and loses the main logits. We return all three as a
   :class:`GoogLeNetOutputs` named tuple.
4. The seed's layer names (``a3``, ``batchnorm``, ``linear``...), conv biases, BatchNorm epsilon and pooling
   paddings differ from torchvision's checkpoint. Ours match ``torchvision.models.googlenet`` exactly, so the
   official ``GoogLeNet_Weights.IMAGENET1K_V1`` checkpoint loads with ``strict=True``.

One more difference from torchvision, on purpose: every ReLU is an ``nn.ReLU`` *module* (not ``F.relu``), so that
guided attribution methods (Guided Backprop, Guided GradCAM), which hook ReLU modules, see every one of them.
ReLUs are not in-place, because Captum's backward hooks cannot wrap tensors that are modified in place.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping, NamedTuple, Optional

import torch
import torch.nn as nn
from torch import Tensor

from .messages import tr

__all__ = [
    "ConvBlock",
    "Inception",
    "InceptionAux",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "TRUNK",
    "INCEPTION_MODULES",
    "STEM",
    "BRANCHES",
    "AUX_HEADS",
    "AUX_TAPS",
    "trunk_segments",
    "module_display_name",
    "branch_display_name",
]

# The one place the layer order is written down: the main path's layers in the order GoogLeNet._forward runs them
# (tests/googlenet/test_model.py records the real call order and compares). Everything that walks the network layer
# by layer (the branch capture, the train-mode forward, the inference net, receptive fields) derives from this.
# torchvision's module names are the keys everywhere in this project; display names are derived from them.
TRUNK: tuple[str, ...] = (
    "conv1", "maxpool1", "conv2", "conv3", "maxpool2",
    "inception3a", "inception3b", "maxpool3",
    "inception4a", "inception4b", "inception4c", "inception4d", "inception4e", "maxpool4",
    "inception5a", "inception5b",
)
INCEPTION_MODULES: tuple[str, ...] = tuple(name for name in TRUNK if name.startswith("inception"))
#: The layers before the first Inception module that hold weights (the "stem").
STEM: tuple[str, ...] = tuple(name for name in TRUNK[: TRUNK.index(INCEPTION_MODULES[0])] if name.startswith("conv"))
BRANCHES: tuple[str, ...] = ("branch1", "branch2", "branch3", "branch4")
AUX_HEADS: tuple[str, ...] = ("aux1", "aux2")
#: The trunk layer whose output each auxiliary head reads.
AUX_TAPS: Mapping[str, str] = MappingProxyType({"aux1": "inception4a", "aux2": "inception4d"})


def trunk_segments() -> tuple[tuple[str, ...], ...]:
    """:data:`TRUNK` cut after each aux tap: the layers up to aux1's input, then up to aux2's, then the rest."""
    cuts = [TRUNK.index(AUX_TAPS[head]) + 1 for head in AUX_HEADS]
    bounds = [0, *cuts, len(TRUNK)]
    return tuple(TRUNK[a:b] for a, b in zip(bounds, bounds[1:]))


def module_display_name(module: str) -> str:
    """``inception4c`` -> ``4c`` (the paper's and the figures' short name)."""
    return module.removeprefix("inception")


def branch_display_name(branch: str, lang: str = "en") -> str:
    """``branch3`` -> ``'5x5' (3x3)``: the paper calls it the 5x5 branch, torchvision's checkpoint has a 3x3 kernel
    there (:attr:`Inception.BRANCH3_KERNEL_SIZE`), and the name says both. Words come from the locale files."""
    if branch not in BRANCHES:
        raise ValueError(f"unknown branch {branch!r}")
    return tr(f"model.branch.{branch}", lang, k=Inception.BRANCH3_KERNEL_SIZE)


class GoogLeNetOutputs(NamedTuple):
    """What a train-mode forward pass returns: the main head and both auxiliary heads.

    (torchvision's own named tuple orders them ``logits, aux_logits2, aux_logits1``; ours reads top-down.)
    """

    logits: Tensor  # N x num_classes, main head after inception5b
    aux1: Optional[Tensor]  # N x num_classes, auxiliary head after inception4a
    aux2: Optional[Tensor]  # N x num_classes, auxiliary head after inception4d


class ConvBlock(nn.Module):
    """Conv -> BatchNorm -> ReLU, the unit every layer of GoogLeNet is built from.

    ``bias=False`` because the BatchNorm that follows has its own shift; ``eps=0.001`` and the names ``conv``/``bn``
    are what torchvision's checkpoint (``BasicConv2d``) uses.
    """

    def __init__(self, in_channels: int, out_channels: int, **kwargs: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        x = self.bn(x)
        x = self.relu(x)
        return x


class Inception(nn.Module):
    """Four parallel branches whose outputs are concatenated along the channel axis.

    - ``branch1``: 1x1 convolution
    - ``branch2``: 1x1 reduction, then 3x3 convolution
    - ``branch3``: 1x1 reduction, then the "5x5" convolution. torchvision's checkpoint was ported with a 3x3 kernel
      here (https://github.com/pytorch/vision/issues/906); we keep 3x3 so the official weights load unchanged.
    - ``branch4``: 3x3 max-pool (stride 1), then a 1x1 projection

    Every branch keeps the spatial size, so the outputs can be concatenated.
    """

    # Kernel size of the second convolution of branch3: 5 in the paper, 3 in torchvision's checkpoint.
    BRANCH3_KERNEL_SIZE = 3

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
    ) -> None:
        super().__init__()
        self.branch1 = ConvBlock(in_channels, ch1x1, kernel_size=1)

        self.branch2 = nn.Sequential(
            ConvBlock(in_channels, ch3x3red, kernel_size=1),
            ConvBlock(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )

        k = self.BRANCH3_KERNEL_SIZE
        self.branch3 = nn.Sequential(
            ConvBlock(in_channels, ch5x5red, kernel_size=1),
            ConvBlock(ch5x5red, ch5x5, kernel_size=k, padding=k // 2),
        )

        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            ConvBlock(in_channels, pool_proj, kernel_size=1),
        )

    def forward_branches(self, x: Tensor) -> list[Tensor]:
        """The four branch outputs, before concatenation (used by the branch explorer)."""
        return [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat(self.forward_branches(x), dim=1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: a small head that reads an intermediate feature map.

    In the paper its loss (weighted 0.3) pushes gradient into the middle of the 22-layer network during training;
    at inference it is dropped. Note: torchvision's checkpoint ships these heads *untrained*.
    """

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7) -> None:
        super().__init__()
        # The seed used AvgPool2d(5, stride=3), which gives 4x4 only for a 14x14 map; adaptive pooling gives 4x4
        # for any input size, as torchvision does.
        self.avgpool = nn.AdaptiveAvgPool2d((4, 4))
        self.conv = ConvBlock(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=dropout)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        # aux1: N x 512 x 14 x 14, aux2: N x 528 x 14 x 14
        x = self.avgpool(x)
        # aux1: N x 512 x 4 x 4, aux2: N x 528 x 4 x 4
        x = self.conv(x)
        # N x 128 x 4 x 4
        x = torch.flatten(x, 1)
        # N x 2048
        x = self.relu(self.fc1(x))
        # N x 1024
        x = self.dropout(x)
        x = self.fc2(x)
        # N x 1000 (num_classes)
        return x


class GoogLeNet(nn.Module):
    """GoogLeNet with torchvision-compatible parameter names.

    Args:
        num_classes: size of the classifier output.
        aux_logits: build the two auxiliary heads (``aux1`` after inception4a, ``aux2`` after inception4d).
            They run only in train mode.
        transform_input: convert an ImageNet-normalized input to the normalization the original (ported) weights
            were trained with. torchvision sets this to True when loading ``IMAGENET1K_V1``, and so do we.
        dropout: dropout before the main classifier (0.2 in torchvision).
        dropout_aux: dropout inside each auxiliary head (0.7, as in the paper).
    """

    # The main path's layers in the order the forward pass runs them (see the module-level TRUNK).
    TRUNK: tuple[str, ...] = TRUNK

    def __init__(
        self,
        num_classes: int = 1000,
        aux_logits: bool = True,
        transform_input: bool = False,
        dropout: float = 0.2,
        dropout_aux: float = 0.7,
    ) -> None:
        super().__init__()
        self.aux_logits = aux_logits
        self.transform_input = transform_input

        self.conv1 = ConvBlock(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = ConvBlock(64, 64, kernel_size=1)
        self.conv3 = ConvBlock(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)

        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)

        self.aux1: Optional[InceptionAux]
        self.aux2: Optional[InceptionAux]
        if aux_logits:
            self.aux1 = InceptionAux(512, num_classes, dropout=dropout_aux)
            self.aux2 = InceptionAux(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None

        # Adaptive pooling (not the seed's AvgPool2d(8)) so that inputs other than 224x224 work.
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)

    def _transform_input(self, x: Tensor) -> Tensor:
        # The ported weights expect inputs scaled to [-1, 1] per channel ((x - 0.5) / 0.5), but the standard
        # torchvision preprocessing normalizes with ImageNet's mean/std. This undoes one and applies the other.
        if self.transform_input:
            x_ch0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
            x_ch1 = torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
            x_ch2 = torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
            x = torch.cat((x_ch0, x_ch1, x_ch2), 1)
        return x

    def stem(self, x: Tensor) -> Tensor:
        """Input transform and the layers before the first Inception module."""
        x = self._transform_input(x)
        # N x 3 x 224 x 224
        x = self.conv1(x)
        # N x 64 x 112 x 112
        x = self.maxpool1(x)
        # N x 64 x 56 x 56
        x = self.conv2(x)
        # N x 64 x 56 x 56
        x = self.conv3(x)
        # N x 192 x 56 x 56
        x = self.maxpool2(x)
        # N x 192 x 28 x 28
        return x

    def classifier(self, x: Tensor) -> Tensor:
        """Global average pool, dropout, then the final linear layer."""
        # N x 1024 x 7 x 7
        x = self.avgpool(x)
        # N x 1024 x 1 x 1
        x = torch.flatten(x, 1)
        # N x 1024
        x = self.dropout(x)  # before the linear layer (the seed had it after: defect 2)
        x = self.fc(x)
        # N x 1000 (num_classes)
        return x

    def _forward(self, x: Tensor) -> GoogLeNetOutputs:
        x = self.stem(x)
        # N x 192 x 28 x 28
        x = self.inception3a(x)
        # N x 256 x 28 x 28
        x = self.inception3b(x)
        # N x 480 x 28 x 28
        x = self.maxpool3(x)
        # N x 480 x 14 x 14
        x = self.inception4a(x)
        # N x 512 x 14 x 14
        aux1: Optional[Tensor] = None
        if self.aux1 is not None and self.training:
            aux1 = self.aux1(x)

        x = self.inception4b(x)
        # N x 512 x 14 x 14
        x = self.inception4c(x)
        # N x 512 x 14 x 14
        x = self.inception4d(x)
        # N x 528 x 14 x 14
        aux2: Optional[Tensor] = None
        if self.aux2 is not None and self.training:
            aux2 = self.aux2(x)

        x = self.inception4e(x)
        # N x 832 x 14 x 14
        x = self.maxpool4(x)
        # N x 832 x 7 x 7
        x = self.inception5a(x)
        # N x 832 x 7 x 7
        x = self.inception5b(x)
        # N x 1024 x 7 x 7
        logits = self.classifier(x)
        return GoogLeNetOutputs(logits, aux1, aux2)

    def forward(self, x: Tensor) -> Tensor | GoogLeNetOutputs:
        """Eval mode: the main logits (N x num_classes). Train mode with aux heads: :class:`GoogLeNetOutputs`."""
        outputs = self._forward(x)
        if self.training and self.aux_logits:
            return outputs
        return outputs.logits
