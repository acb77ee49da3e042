"""Private replicas of the model to explain: the reason attributions can never disturb other requests.

Captum's layer methods register forward hooks on the layer, and Guided Backprop / Guided GradCAM register backward
hooks on every ``nn.ReLU``. The engine's models are shared by every request of every user, so a hook on them would
change what concurrent ``classify`` calls (and other attributions) compute. A :class:`ReplicaPool` keeps a few deep
copies of the source model instead: a call borrows one, runs, is checked for hooks left behind, and gives it back.
The source is only ever read (``deepcopy``).
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

import torch
import torch.nn as nn
from torch import Tensor

from ..integrity import hook_count

__all__ = ["Counted", "ReplicaPool"]

log = logging.getLogger(__name__)


class Counted(nn.Module):
    """Wraps a replica: converts inputs to its memory format and counts the images that go forward.

    The count drives the progress bar (exact for every method) and is checked against the declared cost in tests.
    """

    def __init__(self, model: nn.Module, channels_last: bool) -> None:
        super().__init__()
        self.model = model
        self.channels_last = channels_last
        self.images = 0
        self.on_forward: Optional[Callable[[int], None]] = None

    def forward(self, x: Tensor) -> Tensor:
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        out = self.model(x)  # N x num_classes
        self.images += int(x.shape[0])
        if self.on_forward is not None:
            self.on_forward(self.images)
        return out


class ReplicaPool:
    """A bounded, thread-safe pool of private deep copies of one source model (created lazily)."""

    def __init__(self, source: nn.Module, size: int = 2, channels_last: bool = True) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self._source = source
        self._channels_last = channels_last
        self._free: "queue.LifoQueue[Counted]" = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self.size = size

    def fresh_copy(self) -> Counted:
        """A new private copy (eval mode, parameters frozen), not part of the pool (e.g. to randomise it)."""
        with self._lock:  # deepcopy only reads the source; the lock just keeps copies from piling up at once
            model = copy.deepcopy(self._source)
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        return Counted(model, self._channels_last).eval()

    @contextmanager
    def acquire(self) -> Iterator[Counted]:
        """Borrow a replica; it is returned (or discarded if something was left on it) afterwards."""
        self._slots.acquire()
        try:
            try:
                replica = self._free.get_nowait()
            except queue.Empty:
                replica = self.fresh_copy()
            replica.images, replica.on_forward = 0, None
            try:
                yield replica
            finally:
                replica.on_forward = None
                hooks = hook_count(replica)
                if hooks or replica.training:
                    log.error("discarding an attribution replica with %d hooks left (training=%s)", hooks,
                              replica.training)
                else:
                    self._free.put(replica)
        finally:
            self._slots.release()
