"""The aux-heads file that ``python -m googlenet distill-aux`` writes and the app's ``--aux-weights`` reads.

It holds only the ``aux1.*`` and ``aux2.*`` tensors (about 25 MB in float32, against 50 MB for the whole checkpoint)
and metadata: the base weights and their sha256, a fingerprint of the trunk the heads were distilled for, epochs and
losses. :func:`load_aux_weights` loads it into anything with ``aux1``/``aux2`` attributes (a model you own, or the
private pair of heads of :class:`googlenet.aux_heads.AuxHeads`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch
import torch.nn as nn
from torch import Tensor

from .integrity import state_dict_sha256
from .messages import KeyedError
from .model import AUX_HEADS, GoogLeNet

__all__ = [
    "AUX_FILE_FORMAT",
    "FORMAT_VERSION",
    "AUX_PREFIXES",
    "AuxFile",
    "AuxWeightsError",
    "aux_state_dict",
    "trunk_fingerprint",
    "save_file",
    "load_file",
    "save_aux_weights",
    "read_aux_file",
    "load_aux_weights",
]

AUX_FILE_FORMAT = "googlenet-aux-heads"
FORMAT_VERSION = 1
AUX_PREFIXES: tuple[str, ...] = tuple(f"{head}." for head in AUX_HEADS)


class AuxWeightsError(KeyedError, RuntimeError):
    """An aux-weights file or a distillation checkpoint cannot be used; the message names the file."""


def aux_state_dict(module: nn.Module) -> dict[str, Tensor]:
    """The ``aux1.*``/``aux2.*`` entries (parameters and BatchNorm buffers) of a GoogLeNet or AuxHeadPair."""
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items() if k.startswith(AUX_PREFIXES)}


def trunk_fingerprint(model: GoogLeNet) -> str:
    """sha256 over every non-aux tensor of ``model`` (names, dtypes, shapes, values).

    Identifies the trunk an aux file was distilled for, also for weights that never came from a file.
    ``num_batches_tracked`` only counts training steps: it does not change what the trunk computes.
    """
    return state_dict_sha256(model.state_dict(),
                             skip=lambda name: name.startswith(AUX_PREFIXES) or name.endswith("num_batches_tracked"))


@dataclass(frozen=True)
class AuxFile:
    state_dict: dict[str, Tensor]
    meta: dict[str, object]


def save_file(obj: Mapping[str, object], path: Path) -> None:
    """``torch.save`` that never leaves a half-written file under the final name (aux files and checkpoints)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(dict(obj), tmp)
    tmp.replace(path)


def load_file(path: Path, expected_format: str, *, unreadable: str, wrong_format: str) -> Mapping[str, object]:
    """A file written by :func:`save_file` whose ``"format"`` is ``expected_format`` (tensors only: weights_only);
    ``unreadable``/``wrong_format`` are the error keys for the two ways it can fail."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message, with the reason
        raise AuxWeightsError(unreadable, path=path, reason=exc) from exc
    if not isinstance(obj, Mapping) or obj.get("format") != expected_format:
        raise AuxWeightsError(wrong_format, path=path)
    return obj


def save_aux_weights(state: Mapping[str, Tensor], meta: Mapping[str, object], path: Path) -> None:
    extra = [k for k in state if not k.startswith(AUX_PREFIXES)]
    if extra:
        raise ValueError(f"not aux-head tensors: {extra[:3]}")
    save_file({"format": AUX_FILE_FORMAT, "version": FORMAT_VERSION, "state_dict": dict(state), "meta": dict(meta)},
              path)


def read_aux_file(path: Path | str) -> AuxFile:
    path = Path(path)
    if not path.is_file():
        raise AuxWeightsError("errors.aux_file_missing", path=path)
    obj = load_file(path, AUX_FILE_FORMAT, unreadable="errors.aux_file_unreadable",
                    wrong_format="errors.aux_file_not_aux")
    state = obj.get("state_dict")
    if not isinstance(state, Mapping) or not state or not all(k.startswith(AUX_PREFIXES) for k in state):
        raise AuxWeightsError("errors.aux_file_empty", path=path)
    return AuxFile(state_dict=dict(state), meta=dict(obj.get("meta") or {}))


def load_aux_weights(model_or_copy: nn.Module, path: Path | str) -> AuxFile:
    """Load a distill-aux file into ``model_or_copy.aux1``/``.aux2`` (strict); return the file's contents.

    This writes the module: call it on a private copy, or before a model is shared (never on a served model).
    """
    aux = read_aux_file(path)
    for name in AUX_HEADS:
        head = getattr(model_or_copy, name, None)
        if head is None:
            raise AuxWeightsError("errors.aux_file_no_head", path=path, head=name)
        prefix = name + "."
        part = {k[len(prefix):]: v for k, v in aux.state_dict.items() if k.startswith(prefix)}
        try:
            head.load_state_dict(part, strict=True)
        except RuntimeError as exc:
            raise AuxWeightsError("errors.aux_file_mismatch", path=path, head=name, reason=exc) from exc
    return aux
