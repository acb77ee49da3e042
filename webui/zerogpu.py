"""Hugging Face ZeroGPU support, and a no-op stand-in everywhere else.

On a ZeroGPU Space the ``spaces`` package is installed: functions decorated with ``spaces.GPU`` get a GPU for the
duration of one call, in a *forked worker process*. So a decorated function must take and return plain, picklable
CPU data (paths, numpy arrays, PIL images, dataclasses of those), never CUDA tensors or Gradio objects.

``spaces`` must be imported before torch (it patches CUDA initialisation), so ``app.py`` imports this module first
(and ``webui/__init__.py`` imports nothing). This module imports neither torch nor gradio.

Usage::

    from webui.zerogpu import gpu

    @gpu                      # or @gpu(duration=120) for long jobs (seconds of GPU time asked for)
    def run_on_device(path: str) -> Classification: ...
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional, TypeVar, overload

log = logging.getLogger(__name__)

try:
    import spaces  # noqa: F401  (only on Hugging Face Spaces)
except ImportError:
    spaces = None

__all__ = ["ZEROGPU", "gpu"]

F = TypeVar("F", bound=Callable[..., Any])

#: True when ``spaces`` is importable (a Hugging Face Space); the decorator then is ``spaces.GPU``.
ZEROGPU: bool = spaces is not None and hasattr(spaces, "GPU")


@overload
def gpu(fn: F) -> F: ...


@overload
def gpu(fn: None = None, *, duration: Optional[int] = None) -> Callable[[F], F]: ...


def gpu(fn: Optional[F] = None, *, duration: Optional[int] = None) -> Any:
    """``spaces.GPU`` when available, otherwise the function unchanged. Works bare (``@gpu``) or with arguments."""

    def decorate(f: F) -> F:
        if not ZEROGPU:
            return f
        return spaces.GPU(duration=duration)(f) if duration is not None else spaces.GPU(f)

    return decorate(fn) if fn is not None else decorate
