"""How much work the server accepts at once, and for how long it keeps files: the one owner of every limit.

See docs/limits-and-safety.md. The limits depend on the device, which is known only from the final settings, so
they are computed once (:meth:`Limits.for_settings`) and applied to the built page before it launches
(:func:`apply_limits`). The same number bounds the heavy events' concurrency in Gradio and the attributor's pool of
private model replicas (:class:`webui.services.Services`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import gradio as gr
import torch

from googlenet.attributions import Throughput
from googlenet.inference import select_device

from .settings import Settings

__all__ = ["HEAVY", "DELETE_CACHE", "Limits", "apply_limits", "device_type", "classify_batching",
           "CLASSIFY_MAX_BATCH", "ZeroGpuTime", "ZERO_GPU_TIME"]

log = logging.getLogger(__name__)

#: concurrency_id of the expensive events (attributions, anything doing many forward/backward passes): all events in
#: this group share ONE limit (``Limits.heavy``), so two different heavy tabs cannot together overload the machine.
HEAVY = "heavy"

#: Every 30 minutes, delete uploads and rendered results older than an hour (Gradio's cache), so that disk use stays
#: flat however long the app runs. An hour is long enough for a user to explore one photo across every tab.
DELETE_CACHE: tuple[int, int] = (1800, 3600)

#: A batch of 32 is one ~10 ms forward on a large GPU, still quick to fill under load.
CLASSIFY_MAX_BATCH = 32


@dataclass(frozen=True)
class ZeroGpuTime:
    """The GPU time each ZeroGPU call asks for (``duration`` of spaces.GPU), from the work's declared cost.

    ZeroGPU checks the requested duration against the visitor's quota before the call (a smaller request fits where
    a larger one is refused) and may stop a task that runs past it; the quota is charged with the time really used.
    So: ``startup_s + margin x estimate``, within ``[min_s, max_s]``.

    The numbers are assumptions, not measurements (no GPU where this was written; ``bench/gpu_check.sh`` measures
    the real throughput on a GPU machine):

    - ``throughput``: seconds per image of GoogLeNet (1.5 GFLOPs forward) on one ZeroGPU slice (an H200 MIG
      3g.71gb), fp32, batches of 8, through Captum's hooks: 4 ms forward, 12 ms forward + backward. Chosen
      pessimistic: at batch 8 such a small network is bound by kernel launches and Python, not by the GPU's
      arithmetic. The attributor uses the same numbers under ZeroGPU to fit a time budget and to show the cost
      before a run, so the page, the duration asked for and the run agree.
    - ``startup_s``: a fresh worker forks, initialises CUDA, moves the weights to the GPU and picks its kernels.
    - ``margin``: 1.5x, for a slower or busier GPU than assumed.
    - ``max_s``: 120 s, within what ZeroGPU grants free and signed-in users (its documented default is 60 s; a
      request over the server's maximum is refused as "illegal duration", and then answered from the CPU).
    """

    throughput: Throughput = Throughput(forward_s=0.004, backward_s=0.012)
    startup_s: float = 10.0
    margin: float = 1.5
    min_s: int = 15
    max_s: int = 120

    def seconds(self, work_s: float = 0.0) -> int:
        """Whole seconds to ask for a call whose GPU work is estimated at ``work_s``."""
        return int(min(self.max_s, max(self.min_s, math.ceil(self.startup_s + self.margin * max(0.0, work_s)))))


ZERO_GPU_TIME = ZeroGpuTime()

def device_type(settings: Settings) -> str:
    """The type of the device the settings select ("cpu", "cuda", "mps"); "cpu" when the request cannot be met
    (the engine then fails with the reason when it is built)."""
    try:
        return select_device(settings.device).type
    except RuntimeError:
        return "cpu"


def classify_batching(settings: Settings) -> bool:
    """Dynamic batching of /classify pays only on CUDA (a CPU forward is linear in the batch): on when the selected
    device is CUDA, unless the settings force it on or off."""
    if settings.classify_batch is not None:
        return settings.classify_batch
    return device_type(settings) == "cuda"


@dataclass(frozen=True)
class Limits:
    """How much work the server accepts at once. Chosen per device; see docs/limits-and-safety.md.

    - ``light``: concurrent runs *per endpoint* for cheap events (one forward pass, e.g. /classify). On CPU, PyTorch
      already spreads one forward pass over every core, so more than 2 at a time only time-slices the same cores
      and adds memory; 2 lets one request's decoding/preprocessing overlap another's forward pass. On a GPU the
      kernels are short and the CPU-side work dominates, so 8 keep it busy.
    - ``heavy``: concurrent runs *shared by all* events with ``concurrency_id=HEAVY`` (attributions), and the number
      of private model replicas they run on. One on CPU (each already saturates the cores and holds the activations
      of many passes); two on a GPU (memory).
    - ``queue_size``: requests waiting beyond that get Gradio's "queue is full" at once instead of a long wait.
    - ``max_upload_mb``: larger uploads are refused by the upload route itself with HTTP 413, before our code.
    - ``live``: live camera frames classified at once, all viewers together (webui/live_gate.py): one on a CPU
      (one forward already uses every core; a second would only make both slower), ``light`` on a GPU. A frame
      arriving while that many run is dropped, never queued.
    - ``quick``: the page's quick first answers (the photo's bytes in one direct request, outside Gradio's queue:
      webui/first_answers.py) computed at once, all users together; the same rule as ``live``. A photo arriving
      while that many run is left to its queued change event (as without the quick path).
    - ``cpu_fallback_s``: when ZeroGPU gives no GPU, a heavy event without a time budget of its own (the branch
      attribution; API callers passing budget 0) is answered from the CPU only if its estimate there fits in this
      many seconds; otherwise the reader is told why and to retry later.
    """

    light: int
    heavy: int
    queue_size: int = 64
    max_upload_mb: int = 50
    cpu_fallback_s: float = 120.0
    live: int = 1
    quick: int = 1

    @classmethod
    def for_device(cls, device: str, *, queue_size: int = 64, max_upload_mb: int = 50,
                   cpu_fallback_s: float = 120.0) -> "Limits":
        light, heavy = {"cuda": (8, 2), "mps": (4, 1)}.get(device, (2, 1))
        return cls(light=light, heavy=heavy, queue_size=queue_size, max_upload_mb=max_upload_mb,
                   cpu_fallback_s=cpu_fallback_s, live=1 if device == "cpu" else light,
                   quick=1 if device == "cpu" else light)

    @classmethod
    def for_settings(cls, settings: Settings) -> "Limits":
        return cls.for_device(device_type(settings), queue_size=settings.queue_size,
                              max_upload_mb=settings.max_upload_mb, cpu_fallback_s=settings.cpu_fallback_s)


def apply_limits(blocks: gr.Blocks, limits: Limits) -> gr.Blocks:
    """Set the queue and per-event concurrency on a built page, before ``launch()``.

    Events without an explicit ``concurrency_limit`` get ``limits.light`` each; events in the HEAVY group share
    ``limits.heavy``. Gradio creates each event's queue lazily on its first request, so this must run before launch.
    """
    for fn in blocks.fns.values():
        if fn.concurrency_id == HEAVY:
            fn.concurrency_limit = limits.heavy
    log.info("limits: %s (torch threads %d)", limits, torch.get_num_threads())
    return blocks.queue(default_concurrency_limit=limits.light, max_size=limits.queue_size)
