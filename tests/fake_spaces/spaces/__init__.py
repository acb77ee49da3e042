"""A stand-in for Hugging Face's ``spaces`` package, for the Spaces simulation test (tests/test_spaces.py).

It behaves like ZeroGPU where it matters to the app: ``spaces.GPU`` works bare or with ``duration=``, and the
decorated function's arguments and result must survive pickling (on ZeroGPU they cross into a forked worker), so a
function returning CUDA tensors or Gradio objects fails here too. It prints what it sees, for the test to read.
"""

from __future__ import annotations

import functools
import pickle
import sys

TORCH_IMPORTED_FIRST = "torch" in sys.modules
print(f"fake-spaces: imported; torch imported before spaces: {TORCH_IMPORTED_FIRST}", flush=True)


def _check_cpu_only(value: object) -> None:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor) and value.device.type != "cpu":
        raise TypeError("a spaces.GPU function must return CPU data")


def GPU(fn=None, *, duration=None):  # noqa: N802 (the real package's name)
    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            pickle.dumps((args, kwargs))  # arguments travel to the worker
            print(f"fake-spaces: GPU call {f.__name__} (duration={duration})", flush=True)
            result = f(*args, **kwargs)
            _check_cpu_only(result)
            pickle.loads(pickle.dumps(result))  # and the result travels back
            return result

        return wrapper

    return decorate(fn) if fn is not None else decorate


def gradio_auto_wrap(fn):
    """Gradio wraps every event function with this on Spaces (the real one routes GPU calls); identity here."""
    return fn
