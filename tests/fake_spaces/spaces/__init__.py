"""A stand-in for Hugging Face's ``spaces`` package (0.51.3), simulating ZeroGPU where it matters to the app.

What it reproduces from the real package (``spaces/zero/decorator.py``, ``wrappers.py``, ``gradio.py``):

- off ZeroGPU (``SPACES_ZERO_GPU`` not "1"/"t"/"true") ``spaces.GPU`` returns the function itself;
- on ZeroGPU every call runs in a **separate worker process**, forked from the server (a fresh fork per call here;
  the real package reuses its workers): the arguments, the result and every value a generator yields are pickled
  across, so unpicklable arguments or results fail as they would on a Space;
- ``duration`` may be a number or a callable, which is called in the server process with the call's own arguments
  before anything is scheduled; a missing duration is 60 s (``DEFAULT_SCHEDULE_DURATION``);
- the quota: a control file (``FAKE_SPACES_CONTROL``, JSON, read at every call, written by the test) says how many
  GPU seconds are left (``{"left_s": 0}``; absent: unlimited) or that the worker dies (``{"worker": "abort"}``); the
  errors are ``gr.Error``s with the real titles and messages ("ZeroGPU quota exceeded", "ZeroGPU worker error");
- only a ``gr.Error`` raised in the worker crosses back as itself; any other exception becomes
  ``gr.Error(<class name>, title="ZeroGPU worker error")``, its traceback printed;
- progress: in the worker, Gradio's ``Queue.set_progress`` and ``Queue.log_message`` are replaced with messages to
  the server, which calls the real ones (``patch_gradio_queue``), and the request's event id is restored in the
  worker (``GradioPartialContext``), so ``gr.Progress`` and ``gr.Info`` in the worker reach the page.

Every call is logged as one JSON line to ``FAKE_SPACES_LOG`` (when set) and as a line on stdout, for the tests.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import multiprocessing
import os
import sys
import threading
import time
import traceback

TORCH_IMPORTED_FIRST = "torch" in sys.modules
print(f"fake-spaces: imported; torch imported before spaces: {TORCH_IMPORTED_FIRST}", flush=True)

ZERO_GPU = os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "t", "true")
DEFAULT_DURATION = 60
_fork = multiprocessing.get_context("fork")


class config:  # noqa: N801 (the real package's layout: spaces.config.Config.zero_gpu)
    class Config:
        zero_gpu = ZERO_GPU


def _error(title: str, message: str):
    import gradio as gr

    return gr.Error(message, title=title, print_exception=False)


def _control() -> dict:
    path = os.environ.get("FAKE_SPACES_CONTROL")
    if not path or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _log(entry: dict) -> None:
    print(f"fake-spaces: GPU call {entry['name']} (duration={entry.get('duration')})", flush=True)
    path = os.environ.get("FAKE_SPACES_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")


def _check_duration(name: str, duration) -> float:
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration <= 0:
        raise TypeError(f"{name}: a ZeroGPU duration must be a positive number of seconds, got {duration!r}")
    return float(duration)


def _schedule(entry: dict) -> None:
    """What client.schedule checks before a GPU is attached (spaces/zero/client.py)."""
    left = _control().get("left_s")
    if left is not None and entry["duration"] > left:
        entry["refused"] = "quota"
        raise _error("ZeroGPU quota exceeded",
                     f"You have exceeded your free ZeroGPU quota ({round(entry['duration'])}s requested vs. "
                     f"{round(left)}s left). Try again in 0:04:00. ")


# --- the worker --------------------------------------------------------------------------------------------------


def _patch_gradio_queue(conn) -> None:
    """In the worker: Queue.set_progress / log_message become messages to the server (as spaces does)."""
    from gradio.helpers import TrackedIterable
    from gradio.queueing import Queue

    def rpc(method_name):
        def method(*args, **kwargs):
            if args and isinstance(args[0], Queue):
                args = args[1:]
            conn.send(("queue", method_name, args, kwargs))

        return method

    for method_name in ("set_progress", "log_message"):
        setattr(Queue, method_name, rpc(method_name))

    def reduce(self):  # an iterable or a tqdm bar cannot be pickled: spaces drops them (tracked_iterable__reduce__)
        cls, base, state, *_ = super(TrackedIterable, self).__reduce__()
        return cls, base, {**state, "iterable": None, "_tqdm": None}

    TrackedIterable.__reduce__ = reduce


def _worker(conn, task, server_end) -> None:
    from gradio.context import LocalContext

    server_end.close()  # the fork copied the server's end too: without this, a server that gives up is not seen
    try:
        args, kwargs, context = conn.recv()  # pickled by the server, as spaces' arg_queue does
    except EOFError:  # the server could not pickle them: nothing to run
        return
    _patch_gradio_queue(conn)
    event_id, in_event_listener = context
    LocalContext.event_id.set(event_id)
    LocalContext.in_event_listener.set(in_event_listener)

    def send(kind, value=None):
        try:
            conn.send((kind, value))
        except Exception as exc:  # noqa: BLE001 - an unpicklable result, as in the real worker
            conn.send(("error", _exception_result(exc)))

    def run():
        try:
            if inspect.isgeneratorfunction(task):
                for value in task(*args, **kwargs):
                    send("yield", value)
                send("end")
            else:
                send("ok", task(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - every failure is reported to the server
            conn.send(("error", _exception_result(exc)))

    thread = threading.Thread(target=contextvars.copy_context().run, args=(run,))  # spaces: a pool thread
    thread.start()
    thread.join()
    conn.close()


def _exception_result(exc: BaseException):
    import gradio as gr

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (exc if isinstance(exc, gr.Error) else None), type(exc).__name__, text


def _raise_from(result):
    gradio_error, error_cls, text = result
    if gradio_error is not None:
        raise gradio_error
    print(text, flush=True)
    raise _error("ZeroGPU worker error", error_cls)


def _start(task, args, kwargs):
    from gradio.context import LocalContext

    if _control().get("worker") == "abort":
        return None, None
    parent, child = _fork.Pipe()
    context = (LocalContext.event_id.get(None), LocalContext.in_event_listener.get(False))
    process = _fork.Process(target=_worker, args=(child, task, parent), daemon=True)  # forked: the function is not pickled
    process.start()
    child.close()
    try:
        parent.send((args, kwargs, context))  # an unpicklable argument raises here, in the server, as in spaces
    except BaseException:
        parent.close()
        process.join(timeout=30)
        raise
    return process, parent


def _messages(process, conn, entry):
    """What the worker sends, queue events applied here; ends when the worker is done or gone."""
    from gradio.context import LocalContext

    if process is None:
        raise _error("ZeroGPU worker error", "GPU task aborted")
    entry["worker_pid"] = process.pid
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                raise _error("ZeroGPU worker error", "GPU task aborted") from None
            if message[0] == "queue":
                _, method_name, args, kwargs = message
                entry["queue_events"] = entry.get("queue_events", 0) + 1
                if method_name == "set_progress":
                    entry["progress_events"] = entry.get("progress_events", 0) + 1
                blocks = LocalContext.blocks.get(None)
                if blocks is not None:
                    getattr(blocks._queue, method_name)(*args, **kwargs)
                continue
            yield message
    finally:
        conn.close()
        process.join(timeout=30)


def GPU(task=None, *, duration=None, size=None, **_):  # noqa: N802 (the real package's name)
    if not callable(task):
        return functools.partial(GPU, duration=duration, size=size)
    if not ZERO_GPU:
        return task

    def asked(args, kwargs) -> float:
        value = duration(*args, **kwargs) if callable(duration) else duration  # in the server, before scheduling
        return _check_duration(task.__name__, DEFAULT_DURATION if value is None else value)

    def new_entry(seconds):
        return {"name": task.__name__, "duration": seconds, "callable_duration": callable(duration),
                "server_pid": os.getpid(), "start": time.time()}

    if inspect.isgeneratorfunction(task):
        @functools.wraps(task)
        def generator_handler(*args, **kwargs):
            entry = new_entry(asked(args, kwargs))
            try:
                _schedule(entry)
                process, conn = _start(task, args, kwargs)
                for kind, value in _messages(process, conn, entry):
                    if kind == "yield":
                        entry["yields"] = entry.get("yields", 0) + 1
                        yield value
                    elif kind == "end":
                        return
                    else:
                        _raise_from(value)
            finally:
                _log(entry)

        return generator_handler

    @functools.wraps(task)
    def handler(*args, **kwargs):
        entry = new_entry(asked(args, kwargs))
        try:
            _schedule(entry)
            process, conn = _start(task, args, kwargs)
            for kind, value in _messages(process, conn, entry):
                if kind == "ok":
                    return value
                _raise_from(value)
            raise _error("ZeroGPU worker error", "GPU task aborted")
        finally:
            _log(entry)

    return handler


def gradio_auto_wrap(fn):
    """Gradio wraps every event function with this on Spaces (the real one routes GPU calls); identity here."""
    return fn
