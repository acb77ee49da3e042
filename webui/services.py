"""The shared objects every tab uses, built once from the final settings: the engine (weights, device, the
read-only models), the aux heads, the attributor, the limits, the example photos, the feature visualizations'
disk cache and the photo index of the dataset examples.

They are read-only after construction: a request only reads them (per-user state lives in ``gr.State``). Building
them loads the weights, so it fails fast (a bad ``--weights`` file, ``--require-pretrained`` without weights)
before the server starts.

Functions that run under ZeroGPU's ``spaces.GPU`` execute in a worker process and receive only picklable arguments;
they find the process's services by :attr:`Services.key` (:meth:`Services.find`), never by a pickled model.
:meth:`Services.on_device` calls them, and answers from a CPU copy of the services when ZeroGPU gives no GPU.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, TypeVar

from googlenet.attributions import Attributor, BudgetExceeded, Throughput
from googlenet.aux_heads import AuxHeads
from googlenet.features import FeatureCache
from googlenet.features.precompute import default_cache_dir
from googlenet.inference import Engine
from googlenet.photo_index import IndexSettings, PhotoIndex, index_photos, load_index
from googlenet.labels import TRANSLATED_LANGUAGES, translated_names

from .limits import ZERO_GPU_TIME, Limits
from .first_answers import FirstAnswers
from .live_gate import LiveGate
from .settings import Settings
from .zerogpu import ZEROGPU, Ran, cpu_function, run_on_gpu, stream_on_gpu

T = TypeVar("T")

__all__ = ["Services", "ASSETS", "example_photos", "assumed_throughput"]

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
_PHOTO_SUFFIXES = {".png", ".jpg", ".jpeg"}

_registry: "weakref.WeakValueDictionary[str, Services]" = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()


def assumed_throughput(device_type: str) -> Optional[Throughput]:
    """Under ZeroGPU the models live on a GPU that only the worker processes get: the server never runs them, so
    the attributor's estimates start from the throughput the ZeroGPU durations assume (webui/limits.py). None:
    measured on first use, as everywhere else (a CPU engine, including the CPU copy that answers without a GPU)."""
    return ZERO_GPU_TIME.throughput if ZEROGPU and device_type != "cpu" else None


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
        self.attributor = Attributor.for_engine(self.engine, pool_size=self.limits.heavy,
                                                throughput=assumed_throughput(self.engine.device.type))
        self.examples: list[str] = example_photos()
        for lang in TRANSLATED_LANGUAGES:  # the class-name files are checked before serving (a keyed error)
            translated_names(lang)
        # finished feature visualizations on disk (render-features fills the same folder ahead of time)
        self.features = FeatureCache(settings.features or default_cache_dir(),
                                     max_bytes=settings.features_cache_mb * 1024 * 1024)
        # --photo-index: read and checked against these weights before serving (a bad file fails fast)
        self.photo_index_path: Optional[Path] = Path(settings.photo_index).expanduser() if settings.photo_index \
            else None
        self.photo_index: Optional[PhotoIndex] = None
        if self.photo_index_path is not None:
            self.photo_index = load_index(self.photo_index_path)
            # untrained weights (no sha256) are refused too: they are random, so no index was made with them
            self.photo_index.check_weights(self.engine.weights.sha256, self.photo_index_path)
            log.info("photo index %s: %d photos", self.photo_index_path, len(self.photo_index.photos))
        self._examples_index: Optional[PhotoIndex] = None
        self._examples_lock = threading.Lock()
        self.live_gate = LiveGate(self.limits.live)  # the live camera's frames at once, and its counters
        # the page's first answer per photo, shared by its quick request and its queued change event
        self.first_answers: FirstAnswers = FirstAnswers(self.limits.quick)
        self.key = uuid.uuid4().hex
        self._cpu: Optional[Services] = None
        self._cpu_lock = threading.Lock()
        with _registry_lock:
            _registry[self.key] = self
        log.info("weights: %s; device: %s; inference: %s", self.engine.weights.description,
                 self.engine.device_name, self.engine.inference_description)

    def cpu(self) -> "Services":
        """These services on the CPU: themselves when they already run there, else a copy built on first use (the
        weights loaded again). Under ZeroGPU the server's own models sit on a GPU that only worker processes get
        (spaces moves them off the server at launch), so answering without a GPU needs a copy of its own."""
        if self.engine.device.type == "cpu":
            return self
        with self._cpu_lock:
            if self._cpu is None:
                log.warning("building a CPU copy of the models, to answer while no GPU is available")
                self._cpu = Services(replace(self.settings, device="cpu"))
            return self._cpu

    def on_device(self, task: Callable[..., T], *args: Any, cpu_args: Optional[tuple] = None) -> Ran[T]:
        """``task(self.key, *args)``: a :func:`~webui.zerogpu.gpu` function, so on the GPU under ZeroGPU. When ZeroGPU
        gives no GPU or the task fails there, the same function runs in this process on :meth:`cpu` (with
        ``cpu_args`` instead of ``args`` when given: e.g. a time budget the CPU must keep), and the result says so;
        work the CPU cannot do within that budget is refused with both reasons.
        Elsewhere this is just the call."""

        def on_cpu() -> T:
            return cpu_function(task)(self.cpu().key, *(args if cpu_args is None else cpu_args))

        return run_on_gpu(task, self.key, *args, cpu=on_cpu, too_slow=(BudgetExceeded,))

    def stream_on_device(self, task: Callable[..., Iterator[T]], *args: Any) -> Iterator[Ran[T]]:
        """:meth:`on_device` for a :func:`~webui.zerogpu.gpu` generator function: each value it yields, as it comes.
        When ZeroGPU gives no GPU (or the task fails before its first value), the same generator runs here on
        :meth:`cpu`, and every value says so."""
        return stream_on_gpu(task, self.key, *args,
                             cpu=lambda: cpu_function(task)(self.cpu().key, *args))

    def examples_index(self) -> PhotoIndex:
        """Without ``--photo-index``: an index of the example photos, built on first use (one forward pass each,
        on the shared read-only model) and kept. Under ZeroGPU it is built in the worker that needs it."""
        with self._examples_lock:
            if self._examples_index is None:
                paths = [Path(p) for p in self.examples]
                self._examples_index = index_photos(
                    self.engine.fast, paths, [p.name for p in paths],
                    weights_sha256=self.engine.weights.sha256 or "untrained", root=str(ASSETS),
                    settings=IndexSettings(batch_size=max(1, len(paths))), limits=self.engine.image_limits,
                    spec=self.engine.preprocess_spec).index
            return self._examples_index

    @staticmethod
    def find(key: str) -> "Services":
        """The services with ``key`` in this process (a ZeroGPU worker is a fork of it: the same objects)."""
        with _registry_lock:
            services = _registry.get(key)
        if services is None:
            raise LookupError(f"no services with key {key} in this process")
        return services
