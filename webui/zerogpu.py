"""Hugging Face ZeroGPU support, and a no-op stand-in everywhere else.

On a ZeroGPU Space (the ``spaces`` package installed and ``SPACES_ZERO_GPU`` set) a function decorated with
``spaces.GPU`` gets a GPU for the duration of one call, in a **forked worker process** (spaces 0.51.3,
``spaces/zero/wrappers.py``). What that means for a function decorated with :func:`gpu`:

- its arguments and its result (or each value a generator yields) are **pickled** across the process boundary:
  take and return plain CPU data (paths, numpy arrays, PIL images, frozen dataclasses of those, a ``gr.Progress``),
  never CUDA tensors, models or closures. The worker is a fork of the server: it finds the server's objects by a key
  (``Services.find``);
- ``gr.Progress`` works inside it: spaces replaces Gradio's ``Queue.set_progress`` in the worker with a message to
  the server, which updates the page (``spaces/zero/gradio.py`` ``patch_gradio_queue``);
- ``duration`` (seconds, or a function of the call's arguments returning them) is what is asked of the scheduler
  before the call, in the server process; the quota check compares it with what is left;
- only a ``gr.Error`` raised inside crosses back as itself; any other exception becomes
  ``gr.Error("<its class name>", title="ZeroGPU worker error")``. So :func:`gpu` carries a
  :class:`~googlenet.messages.KeyedError` (a bad photo, a budget) back as a value and raises it again outside:
  the user reads the same translated message as without ZeroGPU.

When no GPU is given (the quota is used up, none is free, the requested duration is refused) or the GPU task fails,
:func:`run_on_gpu` answers from the CPU when the caller can (and says so), or raises :class:`GpuUnavailable` with the
reason in the reader's language. Outside ZeroGPU :func:`gpu` returns the function itself and nothing changes.

``spaces`` must be imported before CUDA is initialised, so ``app.py`` imports this module first (``webui/__init__``
imports nothing). This module imports neither torch nor gradio at import time.

Usage::

    from webui.zerogpu import gpu

    @gpu                                   # spaces' default duration (60 s)
    def classify_on_device(services_key: str, path: str) -> Classification: ...

    @gpu(duration=estimate_seconds)        # a function of the same arguments
    def attribute_on_device(services_key, path, job, progress): ...
"""

from __future__ import annotations

import enum
import functools
import inspect
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterator, Optional, TypeVar, Union

try:
    import spaces  # noqa: F401  (only on Hugging Face Spaces; first, before anything that could touch CUDA)
except ImportError:
    spaces = None

from googlenet.messages import KeyedError, Message  # noqa: E402  (plain Python: no torch, no gradio)

log = logging.getLogger(__name__)

__all__ = ["ZEROGPU", "Duration", "gpu", "cpu_function", "GpuFailure", "gpu_failure", "failure_reason",
           "GpuUnavailable", "Ran", "run_on_gpu", "stream_on_gpu"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

#: Seconds of GPU time to ask for: a number, or a function called with the decorated function's own arguments.
Duration = Union[int, float, Callable[..., float]]


def _zero_gpu_switch() -> bool:
    # The platform's switch, read the way spaces itself reads it (spaces/config.py): "1", "t" or "true".
    return os.environ.get("SPACES_ZERO_GPU", "").strip().lower() in {"1", "t", "true"}


#: True on a ZeroGPU Space: ``spaces`` importable and ``SPACES_ZERO_GPU`` set. Elsewhere (including ordinary Spaces,
#: where spaces.GPU does nothing either) :func:`gpu` returns the function itself.
ZEROGPU: bool = spaces is not None and hasattr(spaces, "GPU") and _zero_gpu_switch()


@dataclass(frozen=True)
class _Raised:
    """A keyed error from the worker, carried back as a value (spaces would reduce it to its class name)."""

    error: KeyedError


def _carry_keyed_errors(f: Callable[..., Any]) -> Callable[..., Any]:
    """What runs in the worker: ``f``, with a KeyedError returned (or yielded, last) instead of raised."""
    if inspect.isgeneratorfunction(f):
        @functools.wraps(f)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from f(*args, **kwargs)
            except KeyedError as exc:
                yield _Raised(exc)

        return generator

    @functools.wraps(f)
    def function(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except KeyedError as exc:
            return _Raised(exc)

    return function


def _on_zerogpu(f: F, duration: Optional[Duration]) -> F:
    inner = _carry_keyed_errors(f)
    scheduled = spaces.GPU(inner, duration=duration) if duration is not None else spaces.GPU(inner)

    if inspect.isgeneratorfunction(f):
        @functools.wraps(f)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for value in scheduled(*args, **kwargs):
                if isinstance(value, _Raised):
                    raise value.error
                yield value

        wrapper: Callable[..., Any] = generator
    else:
        @functools.wraps(f)
        def function(*args: Any, **kwargs: Any) -> Any:
            value = scheduled(*args, **kwargs)
            if isinstance(value, _Raised):
                raise value.error
            return value

        wrapper = function
    wrapper.on_cpu = f  # type: ignore[attr-defined]  (the same function, run here: see cpu_function)
    return wrapper  # type: ignore[return-value]


def gpu(fn: Optional[F] = None, *, duration: Optional[Duration] = None) -> Any:
    """``spaces.GPU`` on ZeroGPU (with keyed errors carried across, see the module docstring), otherwise the
    function unchanged. Works bare (``@gpu``) or with arguments (``@gpu(duration=...)``), on plain functions and on
    generator functions (each value they yield crosses back as it is produced)."""

    def decorate(f: F) -> F:
        if not ZEROGPU:
            return f
        return _on_zerogpu(f, duration)

    return decorate(fn) if fn is not None else decorate


def cpu_function(task: Callable[..., T]) -> Callable[..., T]:
    """The undecorated function behind a :func:`gpu` task: it runs in this process, on whatever device the
    services it is given use (the CPU fallback passes the services' CPU copy)."""
    return getattr(task, "on_cpu", task)


# --- when ZeroGPU gives no GPU, or the GPU task fails -------------------------------------------------------------


class GpuFailure(str, enum.Enum):
    UNAVAILABLE = "unavailable"  # no GPU was attached: quota used up, none free in time, duration refused
    FAILED = "failed"  # the task started on the GPU and did not finish (aborted, out of memory, a crash)


# gr.Error titles raised by spaces 0.51.3 before a GPU is attached (spaces/zero/client.py) and while it runs
# (spaces/zero/wrappers.py). Matched exactly; the messages are English only and are not shown as they are.
_UNAVAILABLE_TITLES = {
    "ZeroGPU quota exceeded": "zerogpu.reason.quota",
    "ZeroGPU illegal duration": "zerogpu.reason.duration",
    "ZeroGPU pending credits exceeded": "zerogpu.reason.busy",
    "ZeroGPU queue timeout": "zerogpu.reason.busy",
    "ZeroGPU client error": "zerogpu.reason.service",
}
_FAILED_TITLE = "ZeroGPU worker error"


def gpu_failure(exc: BaseException) -> Optional[GpuFailure]:
    """Whether ``exc`` is ZeroGPU refusing or losing a GPU task (None: anything else, to be handled as usual)."""
    title = str(getattr(exc, "title", "") or "")
    if title in _UNAVAILABLE_TITLES:
        return GpuFailure.UNAVAILABLE
    if title == _FAILED_TITLE:
        return GpuFailure.FAILED
    if isinstance(exc, RuntimeError) and str(exc).startswith("ZeroGPU API /schedule error"):
        return GpuFailure.UNAVAILABLE  # the scheduler answered with an HTTP error (client.py)
    return None


def failure_reason(exc: BaseException) -> Message:
    """What happened, for the reader: a keyed message (the English spaces message goes to the log only)."""
    title = str(getattr(exc, "title", "") or "")
    if title == _FAILED_TITLE:
        return Message("zerogpu.reason.failed", {"detail": str(getattr(exc, "message", "") or exc)})
    return Message(_UNAVAILABLE_TITLES.get(title, "zerogpu.reason.service"))


class GpuUnavailable(KeyedError, RuntimeError):
    """ZeroGPU gave no GPU (or the GPU task failed) and the CPU cannot answer within its time budget either."""


@dataclass(frozen=True)
class Ran(Generic[T]):
    """A task's value, and why it was computed on the CPU instead of the GPU (None: it ran where asked)."""

    value: T
    on_cpu: Optional[Message] = None

    def notice(self) -> Optional[Message]:
        """The sentence that tells the reader this answer came from the CPU, or None."""
        if self.on_cpu is None:
            return None
        return Message("zerogpu.on_cpu", {"reason": self.on_cpu})


def _gpu_lost(task: Callable[..., Any], exc: Exception, *, to_cpu: bool) -> Optional[Message]:
    """The part of :func:`run_on_gpu` and :func:`stream_on_gpu` that handles an exception from the task: None when
    it is not ZeroGPU's (the caller re-raises it as it is); otherwise the reason, logged, and :class:`GpuUnavailable`
    raised unless the caller answers from the CPU (``to_cpu``)."""
    failure = gpu_failure(exc)
    if failure is None:
        return None
    reason = failure_reason(exc)
    log.warning("%s: ZeroGPU %s (%s: %s)%s", getattr(task, "__name__", task), failure.value,
                getattr(exc, "title", type(exc).__name__), getattr(exc, "message", exc),
                "; answering from the CPU" if to_cpu else "")
    if not to_cpu:
        raise GpuUnavailable("zerogpu.unavailable", reason=reason) from exc
    return reason


def run_on_gpu(task: Callable[..., T], *args: Any, cpu: Optional[Callable[[], T]] = None,
               too_slow: tuple[type[KeyedError], ...] = (), **kwargs: Any) -> Ran[T]:
    """``task(*args, **kwargs)`` (on the GPU under ZeroGPU). If ZeroGPU gives no GPU or the task fails there:
    ``cpu()`` (None: no CPU answer possible). A ``too_slow`` error from it (the CPU refusing work over its time
    limit) is told together with why there was no GPU; any other error (a bad photo) is raised as it is."""
    try:
        return Ran(task(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - only ZeroGPU's own failures are handled; the rest is re-raised
        reason = _gpu_lost(task, exc, to_cpu=cpu is not None)
        if reason is None:
            raise  # not ZeroGPU's (and without a cpu, _gpu_lost has raised GpuUnavailable)
        try:
            value = cpu()
        except too_slow as refused:
            raise GpuUnavailable("zerogpu.cpu_refused", reason=reason, detail=refused.message) from exc
        return Ran(value, on_cpu=reason)


def stream_on_gpu(task: Callable[..., Iterator[T]], *args: Any, cpu: Optional[Callable[[], Iterator[T]]] = None,
                  **kwargs: Any) -> Iterator[Ran[T]]:
    """:func:`run_on_gpu` for a generator task: each value as it is yielded. ZeroGPU refuses (or loses) a generator
    task when it is iterated, not when it is called, so the fallback is decided here: a failure before the first
    value runs ``cpu()`` instead (every value then says why); a failure after it (the task lost half-way) is told
    as :class:`GpuUnavailable`, since the values already shown came from the GPU run."""
    started = False
    try:
        for value in task(*args, **kwargs):
            started = True
            yield Ran(value)
        return
    except Exception as exc:  # noqa: BLE001 - only ZeroGPU's own failures are handled; the rest is re-raised
        reason = _gpu_lost(task, exc, to_cpu=cpu is not None and not started)
        if reason is None:
            raise  # not ZeroGPU's (and without a cpu, or once started, _gpu_lost has raised GpuUnavailable)
    for value in cpu():
        yield Ran(value, on_cpu=reason)
