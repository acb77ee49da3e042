"""Self-distillation of the auxiliary heads: ``python -m googlenet distill-aux --images DIR --out FILE``.

torchvision's checkpoint ships aux heads that were never trained, so what they say is noise. Here they learn to
imitate the main head: for every image in a folder (no labels needed), each aux head is trained to match the main
head's softened prediction (KL divergence to ``softmax(main_logits / T)``, scaled by ``T**2`` as in Hinton et al.'s
distillation). The trunk is frozen and never written: the heads being trained are private copies, and the trunk only
runs in eval mode, read-only, once per image to cache what the heads read.

Why caching is exact: each aux head starts with a parameter-free ``AdaptiveAvgPool2d((4, 4))``, so we store the
pooled 4x4 maps (aux1: 512 x 4 x 4, aux2: 528 x 4 x 4, about 66 KB per image) and the teacher's logits, and every
epoch afterwards costs only the heads' own layers.

The output file holds only ``aux1.*`` and ``aux2.*`` tensors (about 25 MB in float32, against 50 MB for the whole
checkpoint) plus metadata: the base weights and their sha256, a fingerprint of the trunk they were distilled for,
epochs and losses (the file format lives in :mod:`googlenet.aux_weights`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .aux_heads import AuxHeadPair, BatchNormMode, run_layer
from .aux_weights import (FORMAT_VERSION, AuxWeightsError, aux_state_dict, load_file, save_aux_weights, save_file,
                          trunk_fingerprint)
from .images import ImageInputError, open_image
from .messages import KeyedError
from .model import GoogLeNet, trunk_segments
from .transforms import PREPROCESS, Preprocess, preprocess
from .weights import WeightsInfo

__all__ = [
    "CHECKPOINT_FORMAT",
    "IMAGE_SUFFIXES",
    "DistillConfig",
    "DistillFeatures",
    "DistillResult",
    "DistillError",
    "list_images",
    "extract_features",
    "distill_aux",
    "distillation_loss",
]

log = logging.getLogger(__name__)


class DistillError(KeyedError, ValueError):
    """Distillation cannot run as asked (no images, bad settings, a model without aux heads)."""

CHECKPOINT_FORMAT = "googlenet-aux-distill-checkpoint"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


# ---------------------------------------------------------------------------------------------------------------
# Features: what the heads read, computed once by the frozen trunk
# ---------------------------------------------------------------------------------------------------------------


def list_images(directory: Path | str) -> list[Path]:
    """Image files under ``directory`` (recursively), sorted so every run sees the same order."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise DistillError("errors.folder_missing", path=root)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _images_digest(paths: Sequence[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for p in paths:
        digest.update(str(p.relative_to(root)).encode() + b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class DistillFeatures:
    aux1: Tensor  # N x 512 x 4 x 4: inception4a's output after aux1's (parameter-free) 4x4 average pool
    aux2: Tensor  # N x 528 x 4 x 4: inception4d's output after aux2's pool
    teacher: Tensor  # N x 1000: the main head's eval-mode logits
    images: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return self.teacher.shape[0]


def _progress(iterable: Iterable, *, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # plain fallback: one line per step
        def plain():
            for i, item in enumerate(iterable, 1):
                print(f"{desc}: {i}/{total}", flush=True)
                yield item

        return plain()
    return tqdm(iterable, total=total, desc=desc, unit="batch")


def extract_features(model: GoogLeNet, images: Sequence[Path], *, device: torch.device, batch_size: int = 32,
                     spec: Preprocess = PREPROCESS, progress: bool = True) -> DistillFeatures:
    """Run the frozen trunk (eval mode, read-only) over the images; unreadable files are skipped with a warning."""
    if model.aux1 is None or model.aux2 is None:
        raise DistillError("errors.no_aux_heads")
    to_aux1, to_aux2, to_end = trunk_segments()  # the heads read the outputs of the first two segments
    running = BatchNormMode.RUNNING  # eval-mode BatchNorm, computed without touching any module's mode
    tensors, kept = [], []
    for path in images:
        try:
            tensors.append(preprocess(open_image(path), spec)[1])  # 1 x 3 x 224 x 224
            kept.append(path)
        except (ImageInputError, OSError) as exc:
            log.warning("skipping %s: %s", path, exc)
    if not tensors:
        raise DistillError("errors.distill_no_readable_images")
    aux1, aux2, teacher = [], [], []
    batches = [tensors[i:i + batch_size] for i in range(0, len(tensors), batch_size)]
    with torch.inference_mode():
        for batch in _progress(batches, total=len(batches), desc="features", enabled=progress):
            x = model._transform_input(torch.cat(batch).to(device))
            # B x 3 x 224 x 224
            for name in to_aux1:
                x = run_layer(getattr(model, name), x, running)
            aux1.append(model.aux1.avgpool(x).cpu())  # B x 512 x 4 x 4
            for name in to_aux2:
                x = run_layer(getattr(model, name), x, running)
            aux2.append(model.aux2.avgpool(x).cpu())  # B x 528 x 4 x 4
            for name in to_end:
                x = run_layer(getattr(model, name), x, running)
            # B x 1024 x 7 x 7; eval mode: no dropout before fc
            teacher.append(model.fc(torch.flatten(model.avgpool(x), 1)).float().cpu())  # B x 1000
    return DistillFeatures(torch.cat(aux1).float(), torch.cat(aux2).float(), torch.cat(teacher), kept)


# ---------------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistillConfig:
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    temperature: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.temperature <= 0:
            raise DistillError("errors.distill_bad_settings", settings=self)


@dataclass(frozen=True)
class DistillResult:
    state_dict: dict[str, Tensor]  # aux1.* and aux2.* only
    epochs: int
    initial_loss: float  # eval-mode loss of the heads before training
    epoch_losses: list[float]  # mean training loss per epoch (dropout on, as in training)
    eval_losses: list[float]  # eval-mode loss after each epoch
    resumed_from: int  # epochs already done when this run started (0: fresh)
    config: DistillConfig = DistillConfig()  # the settings actually used (a checkpoint's, when resumed)

    @property
    def final_loss(self) -> float:
        return self.eval_losses[-1] if self.eval_losses else self.initial_loss


def distillation_loss(student: Tensor, teacher: Tensor, temperature: float) -> Tensor:
    """KL(softmax(teacher / T) || softmax(student / T)) * T**2, averaged over the batch."""
    t = temperature
    return F.kl_div(F.log_softmax(student / t, dim=1), F.log_softmax(teacher / t, dim=1),
                    reduction="batchmean", log_target=True) * (t * t)


def _heads_loss(heads: AuxHeadPair, f1: Tensor, f2: Tensor, teacher: Tensor, temperature: float) -> Tensor:
    # The aux heads' 4x4 pool is the identity on the cached 4x4 maps, so calling the heads whole is exact.
    return 0.5 * (distillation_loss(heads.aux1(f1), teacher, temperature)
                  + distillation_loss(heads.aux2(f2), teacher, temperature))


def _eval_loss(heads: AuxHeadPair, features: DistillFeatures, device: torch.device, config: DistillConfig) -> float:
    heads.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(features), config.batch_size):
            s = slice(i, i + config.batch_size)
            loss = _heads_loss(heads, features.aux1[s].to(device), features.aux2[s].to(device),
                               features.teacher[s].to(device), config.temperature)
            total += float(loss) * features.teacher[s].shape[0]
    return total / len(features)


def _recalibrate_batchnorm(heads: AuxHeadPair, features: DistillFeatures, device: torch.device,
                           batch_size: int) -> None:
    """Recompute the heads' BatchNorm running statistics for their current weights (a plain average over the
    data): with few steps, momentum-based averages would still remember the weights the heads started from."""
    bns = [m for m in heads.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    heads.train()
    with torch.no_grad():
        for i in range(0, len(features), batch_size):
            s = slice(i, i + batch_size)
            heads.aux1.conv(features.aux1[s].to(device))
            heads.aux2.conv(features.aux2[s].to(device))
    for m, momentum in zip(bns, saved):
        m.momentum = momentum
    heads.eval()


def _save_checkpoint(path: Path, heads: AuxHeadPair, optimizer: torch.optim.Optimizer, epoch: int,
                     initial_loss: float, epoch_losses: list[float], eval_losses: list[float],
                     config: DistillConfig, fingerprint: str, images_digest: str) -> None:
    save_file({
        "format": CHECKPOINT_FORMAT, "version": FORMAT_VERSION, "epoch": epoch,
        "heads": {k: v.detach().cpu() for k, v in heads.state_dict().items()},
        "optimizer": optimizer.state_dict(), "initial_loss": initial_loss,
        "epoch_losses": epoch_losses, "eval_losses": eval_losses, "config": asdict(config),
        "trunk_fingerprint": fingerprint, "images_digest": images_digest,
    }, path)


def _load_checkpoint(path: Path, fingerprint: str, images_digest: str) -> dict:
    ckpt = load_file(path, CHECKPOINT_FORMAT, unreadable="errors.distill_checkpoint_unreadable",
                     wrong_format="errors.distill_checkpoint_wrong")
    if ckpt["trunk_fingerprint"] != fingerprint:
        raise AuxWeightsError("errors.distill_checkpoint_other_weights", path=path)
    if ckpt["images_digest"] != images_digest:
        raise AuxWeightsError("errors.distill_checkpoint_other_images", path=path)
    return dict(ckpt)


def distill_aux(
    model: GoogLeNet,
    features: DistillFeatures,
    config: DistillConfig = DistillConfig(),
    *,
    device: Optional[torch.device] = None,
    checkpoint: Optional[Path] = None,
    resume: bool = False,
    images_digest: str = "",
    progress: bool = True,
) -> DistillResult:
    """Train private copies of ``model``'s aux heads to match the cached teacher; ``model`` is never written.

    With ``checkpoint``, the state after every epoch (heads, optimizer, losses) is saved there; with ``resume``
    as well, training continues from it up to ``config.epochs``. Each epoch's shuffle and dropout come from
    ``config.seed + epoch`` (inside :func:`torch.random.fork_rng`, so the caller's RNG is untouched), which makes
    a resumed run compute exactly what an uninterrupted one would.
    """
    device = device or torch.device("cpu")
    fingerprint = trunk_fingerprint(model)
    heads = AuxHeadPair.copy_of(model).to(device)
    for p in heads.parameters():
        p.requires_grad_(True)
    optimizer = torch.optim.Adam(heads.parameters(), lr=config.lr)

    start, epoch_losses, eval_losses = 0, [], []
    initial_loss: Optional[float] = None
    if resume and checkpoint is not None and checkpoint.is_file():
        ckpt = _load_checkpoint(checkpoint, fingerprint, images_digest)
        saved_config = DistillConfig(**{**asdict(config), **ckpt["config"], "epochs": config.epochs})
        if saved_config != config:
            log.warning("resuming with the checkpoint's settings %s (ignoring %s)", ckpt["config"], asdict(config))
            config = saved_config
        heads.load_state_dict(ckpt["heads"], strict=True)
        optimizer.load_state_dict(ckpt["optimizer"])
        start, initial_loss = int(ckpt["epoch"]), float(ckpt["initial_loss"])
        epoch_losses, eval_losses = list(ckpt["epoch_losses"]), list(ckpt["eval_losses"])
        log.info("resuming from %s after epoch %d of %d", checkpoint, start, config.epochs)
    elif resume:
        log.warning("no checkpoint at %s: starting from the beginning", checkpoint)
    if initial_loss is None:
        initial_loss = _eval_loss(heads, features, device, config)
        log.info("initial loss (aux heads vs main head, eval mode): %.4f", initial_loss)

    n = len(features)
    devices = [device] if device.type == "cuda" else []
    for epoch in range(start, config.epochs):
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(config.seed + epoch)  # dropout masks of this epoch
            order = torch.randperm(n, generator=torch.Generator().manual_seed(config.seed + epoch))
            batches = [order[i:i + config.batch_size] for i in range(0, n, config.batch_size)]
            heads.train()
            total = 0.0
            bar = _progress(batches, total=len(batches), desc=f"epoch {epoch + 1}/{config.epochs}",
                            enabled=progress)
            for idx in bar:
                loss = _heads_loss(heads, features.aux1[idx].to(device), features.aux2[idx].to(device),
                                   features.teacher[idx].to(device), config.temperature)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.item() * idx.numel()
                if hasattr(bar, "set_postfix"):
                    bar.set_postfix(loss=f"{loss.item():.4f}")
        epoch_losses.append(total / n)
        _recalibrate_batchnorm(heads, features, device, config.batch_size)
        eval_losses.append(_eval_loss(heads, features, device, config))
        log.info("epoch %d/%d: training loss %.4f, eval loss %.4f", epoch + 1, config.epochs, epoch_losses[-1],
                 eval_losses[-1])
        if checkpoint is not None:
            _save_checkpoint(checkpoint, heads, optimizer, epoch + 1, initial_loss, epoch_losses, eval_losses,
                             config, fingerprint, images_digest)

    return DistillResult(state_dict=aux_state_dict(heads), epochs=config.epochs, initial_loss=initial_loss,
                         epoch_losses=epoch_losses, eval_losses=eval_losses, resumed_from=start,
                         config=config)


def output_meta(result: DistillResult, config: DistillConfig, weights: WeightsInfo, fingerprint: str,
                images: int) -> dict[str, object]:
    """The metadata stored next to the aux-head tensors."""
    return {
        "base_weights": weights.description,
        "base_weights_sha256": weights.sha256,
        "trunk_fingerprint": fingerprint,
        "epochs": result.epochs,
        "loss": result.final_loss,
        "initial_loss": result.initial_loss,
        "epoch_losses": result.epoch_losses,
        "eval_losses": result.eval_losses,
        "temperature": config.temperature,
        "lr": config.lr,
        "batch_size": config.batch_size,
        "seed": config.seed,
        "images": images,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch": str(torch.__version__),  # a plain str: TorchVersion cannot be read back with weights_only
    }


def run_distillation(images_dir: Path, out: Path, model: GoogLeNet, weights: WeightsInfo, *,
                     config: DistillConfig = DistillConfig(), device: torch.device = torch.device("cpu"),
                     checkpoint: Optional[Path] = None, resume: bool = False, progress: bool = True) -> DistillResult:
    """The whole command: list images, cache features, train, save the aux-heads file."""
    root = Path(images_dir).expanduser()
    images = list_images(root)
    if not images:
        raise DistillError("errors.distill_no_images", suffixes=", ".join(sorted(IMAGE_SUFFIXES)), path=root)
    log.info("%d images under %s; trunk frozen (%s), device %s", len(images), root, weights.description, device)
    if model.training:
        raise DistillError("errors.teacher_not_eval")
    model = model.to(device)
    features = extract_features(model, images, device=device, batch_size=config.batch_size, progress=progress)
    result = distill_aux(model, features, config, device=device, checkpoint=checkpoint, resume=resume,
                         images_digest=_images_digest(features.images, root), progress=progress)
    fingerprint = trunk_fingerprint(model)
    save_aux_weights(result.state_dict, output_meta(result, result.config, weights, fingerprint, len(features)), out)
    log.info("saved the aux heads to %s (loss %.4f -> %.4f)", out, result.initial_loss, result.final_loss)
    return result
