"""Fingerprints of models and state dicts: the one place that hashes tensors and counts hooks.

The engine's ``reference`` and ``fast`` models are shared, read-only objects used by many requests at once. A
handler that flipped a mode (``.train()`` overwrites BatchNorm running statistics and turns dropout on), registered
a hook, or wrote a buffer would silently change every later answer. :func:`model_fingerprint` captures exactly those
things, so tests and the load test can compare them before and after (see bench/load_test.py). The same hashing
identifies the trunk an aux-heads file was distilled for (:func:`state_dict_sha256` with an exclusion), and the same
hook count tells an attribution replica that Captum left nothing behind (:func:`hook_count`).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Optional

import torch
import torch.nn as nn
from torch import Tensor

if TYPE_CHECKING:
    from .inference import Engine

__all__ = ["ModelFingerprint", "HOOK_ATTRIBUTES", "hook_count", "state_dict_sha256", "model_fingerprint",
           "engine_fingerprints"]

#: Every per-module hook dictionary of ``nn.Module`` (forward, backward and state-dict hooks).
HOOK_ATTRIBUTES: tuple[str, ...] = (
    "_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
    "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks",
)


def hook_count(model: nn.Module) -> int:
    """Hooks registered on ``model`` or any submodule (0 means: nothing was left behind)."""
    return sum(len(getattr(module, name, None) or {}) for module in model.modules() for name in HOOK_ATTRIBUTES)


def state_dict_sha256(state: Mapping[str, Tensor], *, skip: Optional[Callable[[str], bool]] = None) -> str:
    """sha256 over the entries of a state dict, in key order: name, dtype, shape and the raw bytes of each tensor
    (exact for any dtype). ``skip(name)`` leaves entries out (e.g. the aux heads, for a trunk fingerprint)."""
    digest = hashlib.sha256()
    for name in sorted(state):
        if skip is not None and skip(name):
            continue
        t = state[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelFingerprint:
    sha256: str  # over every state_dict entry: name, dtype, shape and raw bytes (parameters AND buffers)
    tensors: int  # number of state_dict entries
    training_modules: int  # modules in train mode (must stay 0)
    hooks: int  # hooks registered on any module (must stay 0)
    trainable_parameters: int  # parameters with requires_grad=True (the engine freezes them all)

    def as_dict(self) -> dict:
        return asdict(self)


def model_fingerprint(model: nn.Module) -> ModelFingerprint:
    """Hash the complete state of ``model`` and count what a well-behaved request must never leave behind."""
    state = model.state_dict()
    return ModelFingerprint(
        sha256=state_dict_sha256(state),
        tensors=len(state),
        training_modules=sum(1 for m in model.modules() if m.training),
        hooks=hook_count(model),
        trainable_parameters=sum(1 for p in model.parameters() if p.requires_grad),
    )


def engine_fingerprints(engine: Engine) -> dict[str, dict]:
    """Fingerprints of an :class:`~googlenet.inference.Engine`'s two shared models, as plain dicts (JSON)."""
    return {"reference": model_fingerprint(engine.reference).as_dict(),
            "fast": model_fingerprint(engine.fast).as_dict()}
