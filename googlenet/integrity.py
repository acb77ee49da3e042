"""Fingerprints of the shared models, to prove that serving requests leaves them untouched.

The engine's ``reference`` and ``fast`` models are shared, read-only objects used by many requests at once. A
handler that flipped a mode (``.train()`` overwrites BatchNorm running statistics and turns dropout on), registered
a hook, or wrote a buffer would silently change every later answer. :func:`model_fingerprint` captures exactly those
things, so a load test can compare them before and after (see bench/load_test.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

__all__ = ["ModelFingerprint", "model_fingerprint", "engine_fingerprints"]


@dataclass(frozen=True)
class ModelFingerprint:
    sha256: str  # over every state_dict entry: name, dtype, shape and raw bytes (parameters AND buffers)
    tensors: int  # number of state_dict entries
    training_modules: int  # modules in train mode (must stay 0)
    hooks: int  # forward / pre-forward / backward hooks registered on any module (must stay 0)
    trainable_parameters: int  # parameters with requires_grad=True (the engine freezes them all)

    def as_dict(self) -> dict:
        return asdict(self)


def model_fingerprint(model: nn.Module) -> ModelFingerprint:
    """Hash the complete state of ``model`` and count what a well-behaved request must never leave behind."""
    digest = hashlib.sha256()
    state = model.state_dict()
    for name, tensor in state.items():
        t = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())  # raw bytes: exact, any dtype
    hooks = 0
    for module in model.modules():
        for attribute in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"):
            hooks += len(getattr(module, attribute, {}) or {})
    return ModelFingerprint(
        sha256=digest.hexdigest(),
        tensors=len(state),
        training_modules=sum(1 for m in model.modules() if m.training),
        hooks=hooks,
        trainable_parameters=sum(1 for p in model.parameters() if p.requires_grad),
    )


def engine_fingerprints(engine) -> dict[str, dict]:
    """Fingerprints of an :class:`~googlenet.inference.Engine`'s two shared models, as plain dicts (JSON)."""
    return {"reference": model_fingerprint(engine.reference).as_dict(),
            "fast": model_fingerprint(engine.fast).as_dict()}
