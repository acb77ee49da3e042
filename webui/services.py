"""The shared objects every tab uses, built once from the final settings: the engine (weights, device, the
read-only models), the aux heads, the attributor, the limits and the example photos.

They are read-only after construction: a request only reads them (per-user state lives in ``gr.State``). Building
them loads the weights, so it fails fast (a bad ``--weights`` file, ``--require-pretrained`` without weights)
before the server starts.

Functions that run under ZeroGPU's ``spaces.GPU`` execute in a worker process and receive only picklable arguments;
they find the process's services by :attr:`Services.key` (:meth:`Services.find`), never by a pickled model.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from pathlib import Path

from googlenet.attributions import Attributor
from googlenet.aux_heads import AuxHeads
from googlenet.inference import Engine

from .limits import Limits
from .settings import Settings

__all__ = ["Services", "ASSETS", "example_photos"]

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
_PHOTO_SUFFIXES = {".png", ".jpg", ".jpeg"}

_registry: "weakref.WeakValueDictionary[str, Services]" = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()


def example_photos() -> list[str]:
    """The example photos shipped in assets/ (CC0 / public domain, see assets/README.md), sorted."""
    return sorted(str(p) for p in ASSETS.iterdir() if p.suffix.lower() in _PHOTO_SUFFIXES)


class Services:
    """Everything the tabs share, for one set of settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limits = Limits.for_settings(settings)
        self.engine = Engine.from_options(
            settings.weights,
            device=settings.device,
            allow_download=settings.allow_download,
            require_pretrained=settings.require_pretrained,
            precision=settings.precision,
            image_limits=settings.image_limits,
        )
        # aux heads (and --aux-weights) are loaded before serving, never while requests run
        self.aux_heads = AuxHeads(self.engine, settings.aux_weights)
        # one private replica per attribution that may run at once: the heavy limit owns both numbers
        self.attributor = Attributor.for_engine(self.engine, pool_size=self.limits.heavy)
        self.examples: list[str] = example_photos()
        self.key = uuid.uuid4().hex
        with _registry_lock:
            _registry[self.key] = self
        log.info("weights: %s; device: %s; inference: %s", self.engine.weights.description,
                 self.engine.device_name, self.engine.inference_description)

    @staticmethod
    def find(key: str) -> "Services":
        """The services with ``key`` in this process (a ZeroGPU worker is a fork of it: the same objects)."""
        with _registry_lock:
            services = _registry.get(key)
        if services is None:
            raise LookupError(f"no services with key {key} in this process")
        return services
