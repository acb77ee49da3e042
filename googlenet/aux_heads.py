"""Train mode and the auxiliary heads, computed without ever touching the shared model.

What train mode changes in GoogLeNet, and what this module reproduces per request:

- **Dropout** becomes active: 20% of the 1,024 pooled features before the main classifier (``fc``) and 70% of the
  1,024 ``fc1`` outputs inside each auxiliary head are zeroed, the survivors scaled by ``1 / (1 - p)``.
- **BatchNorm** normalizes with the mean and variance of the *current batch* instead of the running averages it
  collected during training (and, in a real ``.train()`` forward, overwrites those running averages).
- The **auxiliary heads** run: ``aux1`` reads inception4a's output, ``aux2`` inception4d's. In the paper their losses
  (weight 0.3) push gradient into the middle of the 22-layer network during training; at inference they are dropped.

Why not just call ``model.train()``: the Engine's ``reference`` model is shared by every request. One train-mode
forward rewrites all of its BatchNorm running statistics (even under ``no_grad``), and a ``.train()`` toggle in one
thread changes what a concurrent eval request in another thread computes. So nothing here flips a module's mode or
writes a buffer. Instead :func:`train_mode_forward` walks the network's layers explicitly:

- BatchNorm is ``F.batch_norm(x, None, None, weight, bias, training=True)`` for batch statistics: with no running
  buffers passed, PyTorch computes the batch's statistics and has nothing to write; or ``training=False`` with the
  running buffers, which only reads them.
- Dropout is an explicit Bernoulli mask drawn from a per-request ``torch.Generator``: reproducible from a seed, and
  independent of the process-wide RNG that other threads share (``torch.manual_seed`` would race with them).
- Every other layer (convolutions, pooling, linear, ReLU) is a pure function of its input and parameters.

A batch of one photo in "true train mode" normalizes each channel over that photo's spatial positions only (7x7 = 49
values in inception5b, 4x4 = 16 in the aux heads' 1x1 conv): that is a real effect of train mode, not a bug, but a
real training batch would mix many images. ``companions`` lets the caller add other images (the app offers its
example photos) to the BatchNorm batch; the reported predictions are always those for the first image.
"""

from __future__ import annotations

import copy
import enum
import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from .aux_weights import load_aux_weights, trunk_fingerprint
from .images import ImageSource, open_image
from .inference import ClassScore, Engine, topk
from .messages import KeyedError, Message
from .model import BRANCHES, ConvBlock, GoogLeNet, Inception, InceptionAux, trunk_segments
from .transforms import preprocess
from .weights import WeightsInfo, WeightsKind

__all__ = [
    "HEADS",
    "PAIRS",
    "MAX_REPEATS",
    "BatchNormMode",
    "AuxOptions",
    "AuxOptionsError",
    "AuxHeadsStatus",
    "AuxHeadsInfo",
    "AuxHeadPair",
    "TrunkFeatures",
    "HeadResult",
    "Agreement",
    "AuxResult",
    "AuxHeads",
    "train_mode_forward",
    "run_layer",
    "apply_dropout",
    "trunk_features",
    "js_divergence",
]

log = logging.getLogger(__name__)

# Result keys: the main head, then torchvision's module names of the two auxiliary heads.
HEADS: tuple[str, ...] = ("main", "aux1", "aux2")
PAIRS: tuple[tuple[str, str], ...] = (("main", "aux1"), ("main", "aux2"), ("aux1", "aux2"))
MAX_REPEATS = 32



class BatchNormMode(str, enum.Enum):
    """Which statistics BatchNorm normalizes with in train mode."""

    BATCH = "batch"  # true train mode: mean/variance of the current batch (never written back here)
    RUNNING = "running"  # train mode with running statistics: BatchNorm behaves as in eval mode


class AuxOptionsError(KeyedError, ValueError):
    """Options of the aux-heads view that cannot be run (the message says which and why)."""


@dataclass(frozen=True)
class AuxOptions:
    """The switches of the "Auxiliary heads" view."""

    train_mode: bool = True  # False: plain eval mode (the aux heads are not run, as at inference)
    dropout: bool = True
    seed: Optional[int] = 0  # None: a fresh random seed, reported in the result so it can be reused
    batchnorm: BatchNormMode = BatchNormMode.BATCH
    repeats: int = 1  # runs with seeds seed, seed+1, ...; only dropout makes them differ

    def __post_init__(self) -> None:
        if not 1 <= int(self.repeats) <= MAX_REPEATS:
            raise AuxOptionsError("errors.repeats_range", high=MAX_REPEATS, value=self.repeats)
        if self.seed is not None and not 0 <= int(self.seed) < 2**63 - MAX_REPEATS:
            raise AuxOptionsError("errors.seed_range", value=self.seed)
        try:
            object.__setattr__(self, "batchnorm", BatchNormMode(self.batchnorm))
        except ValueError:
            raise AuxOptionsError("errors.unknown_batchnorm", value=self.batchnorm,
                                  choices=", ".join(m.value for m in BatchNormMode)) from None


# ---------------------------------------------------------------------------------------------------------------
# Where the aux heads come from, said honestly
# ---------------------------------------------------------------------------------------------------------------


class AuxHeadsStatus(str, enum.Enum):
    DISTILLED = "distilled"  # loaded from a distill-aux file (see googlenet.distill)
    UNTRAINED_OFFICIAL = "untrained_official"  # torchvision's checkpoint: its aux heads were never trained
    CUSTOM = "custom"  # from a custom checkpoint: trained only if whoever made it trained them
    UNTRAINED_RANDOM = "untrained_random"  # no pretrained weights at all: everything is random


@dataclass(frozen=True)
class AuxHeadsInfo:
    """Which aux heads are loaded, and how to describe them honestly (:attr:`description`)."""

    status: AuxHeadsStatus
    weights: WeightsInfo
    path: Optional[Path] = None  # the distilled file
    meta: Mapping[str, object] = field(default_factory=dict)
    trunk_mismatch: bool = False  # distilled for a different trunk than the one loaded

    @property
    def file_name(self) -> str:
        if self.path is not None:
            return self.path.name
        return self.weights.path.name if self.weights.path is not None else ""

    @property
    def untrained(self) -> bool:
        """True when the aux heads' outputs are known to be noise."""
        return self.status in (AuxHeadsStatus.UNTRAINED_OFFICIAL, AuxHeadsStatus.UNTRAINED_RANDOM)

    @property
    def description(self) -> Message:
        """Where the heads come from and what that means for their outputs, in a sentence (any language)."""
        return Message(f"aux.label.{self.status.value}", {"file": self.file_name})

    @property
    def label(self) -> str:
        """:attr:`description` in English (JSON, CLI, logs)."""
        return self.description.text()

    @classmethod
    def for_weights(cls, weights: WeightsInfo) -> "AuxHeadsInfo":
        status = {
            WeightsKind.OFFICIAL: AuxHeadsStatus.UNTRAINED_OFFICIAL,
            WeightsKind.CUSTOM: AuxHeadsStatus.CUSTOM,
            WeightsKind.UNTRAINED: AuxHeadsStatus.UNTRAINED_RANDOM,
        }[weights.kind]
        return cls(status=status, weights=weights)


class AuxHeadPair(nn.Module):
    """Just ``aux1`` and ``aux2``, with the same state-dict keys as in GoogLeNet (``aux1.fc1.weight``, ...)."""

    def __init__(self, aux1: InceptionAux, aux2: InceptionAux) -> None:
        super().__init__()
        self.aux1 = aux1
        self.aux2 = aux2

    @classmethod
    def copy_of(cls, model: GoogLeNet) -> "AuxHeadPair":
        if model.aux1 is None or model.aux2 is None:
            raise AuxOptionsError("errors.no_aux_heads")
        return cls(copy.deepcopy(model.aux1), copy.deepcopy(model.aux2))


# ---------------------------------------------------------------------------------------------------------------
# The explicit train-mode forward pass
# ---------------------------------------------------------------------------------------------------------------


def _batchnorm(bn: nn.BatchNorm2d, x: Tensor, mode: BatchNormMode) -> Tensor:
    if mode is BatchNormMode.BATCH:
        # No running buffers passed: PyTorch normalizes with this batch's mean and (biased) variance, exactly as a
        # train-mode BatchNorm does, and there is nothing for it to update.
        return F.batch_norm(x, None, None, bn.weight, bn.bias, training=True, momentum=0.0, eps=bn.eps)
    # training=False only reads the running buffers.
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, training=False, eps=bn.eps)


def run_layer(module: nn.Module, x: Tensor, mode: BatchNormMode) -> Tensor:
    """``module(x)`` with every BatchNorm replaced by :func:`_batchnorm`; no state is read-modify-written."""
    if isinstance(module, ConvBlock):
        return module.relu(_batchnorm(module.bn, module.conv(x), mode))
    if isinstance(module, Inception):
        # The four branches side by side, concatenated along channels, as Inception.forward does.
        return torch.cat([run_layer(getattr(module, name), x, mode) for name in BRANCHES], dim=1)
    if isinstance(module, nn.Sequential):
        for child in module:
            x = run_layer(child, x, mode)
        return x
    if isinstance(module, nn.BatchNorm2d):
        return _batchnorm(module, x, mode)
    if isinstance(module, (nn.Dropout, InceptionAux)):
        raise TypeError(f"{type(module).__name__} must be run through the head functions, not run_layer")
    # Conv2d, MaxPool2d, ReLU, Linear...: pure functions of their input and parameters.
    return module(x)


@dataclass(frozen=True)
class TrunkFeatures:
    """What the heads read, before any dropout. Only BatchNorm's mode changes these."""

    aux1: Tensor  # N x 1024: aux1's fc1 output after ReLU (its dropout comes next)
    aux2: Tensor  # N x 1024: aux2's fc1 output after ReLU
    main: Tensor  # N x 1024: globally pooled inception5b output (the main dropout comes next)


def _aux_hidden(head: InceptionAux, x: Tensor, mode: BatchNormMode) -> Tensor:
    # aux1: N x 512 x 14 x 14, aux2: N x 528 x 14 x 14
    x = head.avgpool(x)
    # N x 512|528 x 4 x 4
    x = run_layer(head.conv, x, mode)
    # N x 128 x 4 x 4
    x = torch.flatten(x, 1)
    # N x 2048
    return head.relu(head.fc1(x))  # N x 1024


def trunk_features(model: GoogLeNet, x: Tensor, mode: BatchNormMode,
                   heads: Optional[AuxHeadPair] = None) -> TrunkFeatures:
    """Run the trunk and the deterministic part of all three heads (``heads`` defaults to the model's own)."""
    aux1 = heads.aux1 if heads is not None else model.aux1
    aux2 = heads.aux2 if heads is not None else model.aux2
    if aux1 is None or aux2 is None:
        raise AuxOptionsError("errors.no_aux_heads")
    to_aux1, to_aux2, to_end = trunk_segments()  # the trunk cut where the heads read it (model.AUX_TAPS)
    x = model._transform_input(x)
    # N x 3 x H x W
    for name in to_aux1:
        x = run_layer(getattr(model, name), x, mode)
    # N x 512 x 14 x 14 (at 224x224): inception4a's output
    h1 = _aux_hidden(aux1, x, mode)
    for name in to_aux2:
        x = run_layer(getattr(model, name), x, mode)
    # N x 528 x 14 x 14: inception4d's output
    h2 = _aux_hidden(aux2, x, mode)
    for name in to_end:
        x = run_layer(getattr(model, name), x, mode)
    # N x 1024 x 7 x 7
    pooled = torch.flatten(model.avgpool(x), 1)
    # N x 1024
    return TrunkFeatures(aux1=h1, aux2=h2, main=pooled)


def apply_dropout(x: Tensor, p: float, generator: Optional[torch.Generator]) -> Tensor:
    """Inverted dropout with a mask from ``generator`` (None: no dropout), as ``nn.Dropout`` does in train mode."""
    if generator is None or p == 0.0:
        return x
    if p >= 1.0:
        return torch.zeros_like(x)
    keep = torch.empty_like(x).bernoulli_(1.0 - p, generator=generator)
    return x * keep / (1.0 - p)


def _head_logits(model: GoogLeNet, heads: AuxHeadPair, features: TrunkFeatures,
                 generator: Optional[torch.Generator]) -> dict[str, Tensor]:
    # Masks are always drawn in the order aux1, aux2, main, so one seed gives one result.
    aux1 = heads.aux1.fc2(apply_dropout(features.aux1, heads.aux1.dropout.p, generator))
    aux2 = heads.aux2.fc2(apply_dropout(features.aux2, heads.aux2.dropout.p, generator))
    main = model.fc(apply_dropout(features.main, model.dropout.p, generator))
    return {"main": main, "aux1": aux1, "aux2": aux2}  # each N x 1000


def _generator(seed: int, device: torch.device) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator


def train_mode_forward(model: GoogLeNet, x: Tensor, *, dropout: bool = True, seed: int = 0,
                       batchnorm: BatchNormMode = BatchNormMode.BATCH,
                       heads: Optional[AuxHeadPair] = None) -> dict[str, Tensor]:
    """What ``model.train(); model(x)`` computes ({"main", "aux1", "aux2"} -> N x 1000 logits), read-only.

    Dropout masks come from a private generator seeded with ``seed``; ``model`` is never modified.
    """
    heads = heads if heads is not None else AuxHeadPair(model.aux1, model.aux2)
    with torch.inference_mode():
        features = trunk_features(model, x, BatchNormMode(batchnorm), heads)
        generator = _generator(seed, x.device) if dropout else None
        return _head_logits(model, heads, features, generator)


# ---------------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------------


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits (base 2): 0 for identical distributions, 1 for disjoint ones."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / b[mask])))

    return max(0.0, 0.5 * kl(p, m) + 0.5 * kl(q, m))


@dataclass(frozen=True)
class HeadResult:
    """One head over all runs."""

    head: str  # "main", "aux1" or "aux2"
    top: list[ClassScore]  # top-5 of the mean probability over runs
    probabilities: np.ndarray = field(repr=False)  # 1000, mean over runs
    runs: np.ndarray = field(repr=False)  # repeats x 1000, one softmax per run
    spread: list[tuple[float, float]] = field(default_factory=list)  # (min, max) over runs, per top class
    run_top1: list[int] = field(default_factory=list)  # each run's top-1 class index

    def to_json(self) -> dict:
        return {
            "top": [{"index": s.index, "name": s.name, "probability": s.probability, "min": lo, "max": hi}
                    for s, (lo, hi) in zip(self.top, self.spread)],
            "run_top1": self.run_top1,
        }


@dataclass(frozen=True)
class Agreement:
    """How far two heads agree."""

    a: str
    b: str
    top1_agree: bool  # same top-1 class in the mean distributions
    top1_agreement_rate: float  # fraction of runs in which their top-1 classes are the same
    js_divergence: float  # Jensen-Shannon divergence (bits) between the mean distributions

    def to_json(self) -> dict:
        return {"heads": [self.a, self.b], "top1_agree": self.top1_agree,
                "top1_agreement_rate": self.top1_agreement_rate, "js_divergence_bits": self.js_divergence}


@dataclass(frozen=True)
class AuxResult:
    """Everything the "Auxiliary heads" view shows for one photo."""

    options: AuxOptions
    seeds: list[int]  # one per run
    heads: dict[str, HeadResult]  # "main" always; "aux1"/"aux2" only in train mode
    eval_main: HeadResult  # the eval-mode main prediction, for comparison
    agreement: list[Agreement]
    train_vs_eval_js: Optional[float]  # JS divergence (bits) between train-mode and eval-mode main head
    batch_size: int  # images in the BatchNorm batch (1 + companions)
    aux_info: AuxHeadsInfo
    crop: Image.Image = field(repr=False)

    def to_json(self) -> dict:
        o = self.options
        return {
            "options": {"train_mode": o.train_mode, "dropout": o.dropout, "seed": self.seeds[0],
                        "batchnorm": o.batchnorm.value, "repeats": o.repeats, "batch_size": self.batch_size},
            "seeds": self.seeds,
            "heads": {name: head.to_json() for name, head in self.heads.items()},
            "eval_main": self.eval_main.to_json(),
            "agreement": [a.to_json() for a in self.agreement],
            "train_vs_eval_js_bits": self.train_vs_eval_js,
            "aux_heads": self.aux_info.label,
            "aux_heads_status": self.aux_info.status.value,
            "aux_heads_untrained": self.aux_info.untrained,
            "weights": self.aux_info.weights.description,
            "warning": self.aux_info.weights.warning,
        }


def _head_result(head: str, runs: np.ndarray, k: int = 5) -> HeadResult:
    # runs: repeats x 1000
    mean = runs.mean(axis=0)
    top = topk(torch.from_numpy(mean), k)
    spread = [(float(runs[:, s.index].min()), float(runs[:, s.index].max())) for s in top]
    return HeadResult(head=head, top=top, probabilities=mean, runs=runs, spread=spread,
                      run_top1=[int(i) for i in runs.argmax(axis=1)])


def _agreement(a: HeadResult, b: HeadResult) -> Agreement:
    rate = float(np.mean([x == y for x, y in zip(a.run_top1, b.run_top1)]))
    return Agreement(a=a.head, b=b.head, top1_agree=a.top[0].index == b.top[0].index, top1_agreement_rate=rate,
                     js_divergence=js_divergence(a.probabilities, b.probabilities))


# ---------------------------------------------------------------------------------------------------------------
# The service the app uses
# ---------------------------------------------------------------------------------------------------------------


class AuxHeads:
    """The engine's shared trunk (read-only) plus a private pair of aux heads, possibly distilled.

    Built once, before serving; afterwards thread-safe because nothing in it is ever written.
    """

    def __init__(self, engine: Engine, aux_weights: Optional[Path | str] = None) -> None:
        self.engine = engine
        # A private copy: loading distilled weights must not touch the shared model, which other features use.
        self.heads = AuxHeadPair.copy_of(engine.reference)
        info = AuxHeadsInfo.for_weights(engine.weights)
        if aux_weights is not None:
            path = Path(aux_weights).expanduser()
            loaded = load_aux_weights(self.heads, path)
            mismatch = loaded.meta.get("trunk_fingerprint") not in (None, trunk_fingerprint(engine.reference))
            if mismatch:
                log.warning("%s was distilled for a different trunk than the weights loaded now (%s): its heads "
                            "imitate another network", path, engine.weights.description)
            info = AuxHeadsInfo(status=AuxHeadsStatus.DISTILLED, weights=engine.weights, path=path,
                                meta=dict(loaded.meta), trunk_mismatch=mismatch)
        self.heads.to(engine.device).eval()
        for p in self.heads.parameters():
            p.requires_grad_(False)
        self.info = info
        log.info("aux heads: %s", info.label)

    def prepare(self, source: ImageSource, companions: Sequence[ImageSource] = ()) -> tuple[Image.Image, Tensor]:
        """The photo's crop and the BatchNorm batch: B x 3 x 224 x 224, the photo first."""
        crop, x = self.engine.prepare(source)
        if not companions:
            return crop, x
        extra = [preprocess(open_image(c, self.engine.image_limits), self.engine.preprocess_spec)[1]
                 for c in companions]
        return crop, torch.cat([x] + [e.to(self.engine.device) for e in extra])

    def run(self, source: ImageSource, options: AuxOptions = AuxOptions(),
            companions: Sequence[ImageSource] = ()) -> AuxResult:
        crop, x = self.prepare(source, companions)
        return self.run_tensor(x, options, crop=crop)

    def run_tensor(self, x: Tensor, options: AuxOptions = AuxOptions(), *,
                   crop: Optional[Image.Image] = None) -> AuxResult:
        """``x``: B x 3 x H x W, the photo first (the others only take part in BatchNorm's batch statistics)."""
        model = self.engine.reference
        x = x.to(self.engine.device)
        base_seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
        eval_probs = self.engine.logits(x[:1]).softmax(dim=1).numpy()  # 1 x 1000, the fast (folded) model
        eval_main = _head_result("main", eval_probs)

        if not options.train_mode:
            return AuxResult(options=options, seeds=[base_seed], heads={"main": eval_main}, eval_main=eval_main,
                             agreement=[], train_vs_eval_js=None, batch_size=x.shape[0], aux_info=self.info,
                             crop=crop if crop is not None else Image.new("RGB", (1, 1)))

        # Without dropout every run is the same computation: do it once.
        repeats = options.repeats if options.dropout else 1
        seeds = [base_seed + i for i in range(repeats)]
        runs: dict[str, list[np.ndarray]] = {h: [] for h in HEADS}
        with torch.inference_mode():
            # The trunk and the heads up to their dropout do not depend on the seed: compute them once.
            features = trunk_features(model, x, options.batchnorm, self.heads)
            first = TrunkFeatures(aux1=features.aux1[:1], aux2=features.aux2[:1], main=features.main[:1])
            for seed in seeds:
                generator = _generator(seed, x.device) if options.dropout else None
                for head, logits in _head_logits(model, self.heads, first, generator).items():
                    runs[head].append(logits.float().softmax(dim=1)[0].cpu().numpy())
        heads = {h: _head_result(h, np.stack(runs[h])) for h in HEADS}
        agreement = [_agreement(heads[a], heads[b]) for a, b in PAIRS]
        return AuxResult(
            options=options, seeds=seeds, heads=heads, eval_main=eval_main, agreement=agreement,
            train_vs_eval_js=js_divergence(heads["main"].probabilities, eval_main.probabilities),
            batch_size=x.shape[0], aux_info=self.info, crop=crop if crop is not None else Image.new("RGB", (1, 1)),
        )
