"""Finding, verifying and loading GoogLeNet weights.

Resolution order (:func:`resolve_weights`):

1. an explicit file (``--weights PATH`` or the ``GOOGLENET_WEIGHTS`` environment variable);
2. torchvision's cache, ``$TORCH_HOME/hub/checkpoints/googlenet-1378be20.pth``;
3. a download through torchvision's weights API (with console progress), when allowed;
4. untrained (randomly initialised) weights, announced loudly, unless ``require_pretrained`` is set.

A file is shown as the official checkpoint only when its sha256 starts with ``1378be20`` (the hash torchvision
publishes in the file name); any other loadable file is "custom weights".
"""

from __future__ import annotations

import enum
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

import torch
from torch import Tensor
from torchvision.models import GoogLeNet_Weights

from .messages import KeyedError, Message
from .model import GoogLeNet

__all__ = [
    "OFFICIAL_WEIGHTS",
    "OFFICIAL_FILENAME",
    "OFFICIAL_SHA256_PREFIX",
    "WEIGHTS_ENV_VAR",
    "WeightsKind",
    "WeightsInfo",
    "WeightsError",
    "PretrainedWeightsUnavailable",
    "cache_path",
    "sha256_of",
    "resolve_weights",
    "read_state_dict",
    "load_model",
    "download_official",
]

log = logging.getLogger(__name__)

OFFICIAL_WEIGHTS = GoogLeNet_Weights.IMAGENET1K_V1
OFFICIAL_FILENAME: str = OFFICIAL_WEIGHTS.url.rsplit("/", 1)[-1]  # googlenet-1378be20.pth
# torchvision names checkpoint files "<name>-<first 8 hex digits of the file's sha256>.pth".
OFFICIAL_SHA256_PREFIX: str = OFFICIAL_FILENAME.rsplit("-", 1)[-1].split(".", 1)[0]  # 1378be20
WEIGHTS_ENV_VAR = "GOOGLENET_WEIGHTS"


class WeightsError(KeyedError, RuntimeError):
    """A weights file exists but cannot be used (unreadable, not a checkpoint, wrong shapes)."""


class PretrainedWeightsUnavailable(KeyedError, RuntimeError):
    """Pretrained weights were required but none could be found or downloaded."""


class WeightsKind(str, enum.Enum):
    OFFICIAL = "official"
    CUSTOM = "custom"
    UNTRAINED = "untrained"


@dataclass(frozen=True)
class WeightsInfo:
    """Where the loaded weights came from, and how to describe them honestly."""

    kind: WeightsKind
    path: Optional[Path]
    sha256: Optional[str]
    source: str  # "explicit", "environment", "cache", "download" or "none"

    @property
    def pretrained(self) -> bool:
        return self.kind is not WeightsKind.UNTRAINED

    @property
    def official(self) -> bool:
        return self.kind is WeightsKind.OFFICIAL

    @property
    def message(self) -> Message:
        """What the weights are, in a few words (any language)."""
        name = self.path.name if self.path is not None else "?"
        return Message(f"weights.{self.kind.value}", {"name": name, "sha": (self.sha256 or "?")[:8]})

    @property
    def description(self) -> str:
        """:attr:`message` in English (JSON, logs, the command line)."""
        return self.message.text()

    @property
    def warning(self) -> Optional[str]:
        """A message to show on every result (English), or None."""
        return self.description if self.kind is WeightsKind.UNTRAINED else None


def cache_path() -> Path:
    """Where torchvision keeps (and looks for) the official checkpoint: ``$TORCH_HOME/hub/checkpoints/``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / OFFICIAL_FILENAME


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _describe_file(path: Path, source: str) -> WeightsInfo:
    digest = sha256_of(path)
    kind = WeightsKind.OFFICIAL if digest.startswith(OFFICIAL_SHA256_PREFIX) else WeightsKind.CUSTOM
    return WeightsInfo(kind=kind, path=path, sha256=digest, source=source)


def download_official(progress: bool = True) -> Path:
    """Download the official checkpoint into torchvision's cache (hash-checked) and return its path."""
    # torchvision's own weights API: downloads to $TORCH_HOME/hub/checkpoints with a console progress bar and
    # checks the sha256 prefix in the file name.
    OFFICIAL_WEIGHTS.get_state_dict(progress=progress, check_hash=True)
    path = cache_path()
    if not path.is_file():
        raise PretrainedWeightsUnavailable("errors.download_missing", path=path)
    return path


def resolve_weights(
    explicit: Optional[os.PathLike | str] = None,
    *,
    allow_download: bool = True,
    require_pretrained: bool = False,
    progress: bool = True,
) -> WeightsInfo:
    """Find the weights to load, in the documented order, without loading them."""
    source = "explicit"
    if explicit is None and os.environ.get(WEIGHTS_ENV_VAR):
        explicit, source = os.environ[WEIGHTS_ENV_VAR], "environment"
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise WeightsError("errors.weights_missing", path=path)
        return _describe_file(path, source)

    cached = cache_path()
    if cached.is_file():
        return _describe_file(cached, "cache")

    if allow_download:
        try:
            log.info("Downloading the official GoogLeNet weights from %s", OFFICIAL_WEIGHTS.url)
            return _describe_file(download_official(progress=progress), "download")
        except Exception as exc:  # no network, proxy, disk full: all mean "no pretrained weights"
            log.warning("Could not download the official weights: %s", exc)
            if require_pretrained:
                raise PretrainedWeightsUnavailable("errors.pretrained_download_failed", cache=cached,
                                                   reason=exc) from exc

    if require_pretrained:
        raise PretrainedWeightsUnavailable("errors.pretrained_no_download", cache=cached)
    log.warning("No pretrained weights found: starting with UNTRAINED weights (%s)",
                Message("weights.untrained").text())
    return WeightsInfo(kind=WeightsKind.UNTRAINED, path=None, sha256=None, source="none")


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """Read a checkpoint file as a state dict, with an error that names the file when it is not one."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message, with the reason
        raise WeightsError("errors.weights_unreadable", path=path, reason=exc) from exc
    # Accept a bare state dict or the common {"state_dict": ...} / {"model": ...} wrappers.
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model"):
            if key in obj and isinstance(obj[key], Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise WeightsError("errors.weights_not_state_dict", path=path)
    return dict(obj)


def load_model(info: WeightsInfo) -> GoogLeNet:
    """Build a :class:`GoogLeNet` (aux heads included), load ``info``'s weights strictly, return it in eval mode."""
    pretrained = info.kind is not WeightsKind.UNTRAINED
    # transform_input=True is what torchvision uses with its checkpoint (ported weights expect [-1, 1] inputs);
    # for custom checkpoints we assume the same convention, since they are usually fine-tuned from it.
    model = GoogLeNet(aux_logits=True, transform_input=pretrained)
    if pretrained:
        assert info.path is not None
        state = read_state_dict(info.path)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise WeightsError("errors.weights_mismatch", path=info.path, reason=exc) from exc
        log.info("Loaded %s from %s", info.description, info.path)
    else:
        _init_untrained(model)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _init_untrained(model: GoogLeNet) -> None:
    # torchvision's init (truncated normal, std 0.01), so an untrained model behaves like torchvision's.
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
        elif isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.constant_(m.weight, 1)
            torch.nn.init.constant_(m.bias, 0)
