"""stream_on_gpu: a generator task refused by ZeroGPU before its first value is answered from the CPU (each value
says so); one lost half-way is told as GpuUnavailable; any other error is raised as it is."""

from __future__ import annotations

import gradio as gr
import pytest

from webui import zerogpu

# Names are looked up on the module at call time: tests/webui/test_spaces.py reloads it, which makes new classes.


def stream_on_gpu(*args, **kwargs):
    return zerogpu.stream_on_gpu(*args, **kwargs)


def refused():
    raise gr.Error("no quota", title="ZeroGPU quota exceeded")
    yield  # a generator


def lost():
    yield 1
    raise gr.Error("boom", title="ZeroGPU worker error")


def test_refused_before_the_first_value_runs_on_the_cpu():
    values = list(stream_on_gpu(refused, cpu=lambda: iter([1, 2])))
    assert [v.value for v in values] == [1, 2]
    assert all(v.on_cpu is not None and v.on_cpu.key == "zerogpu.reason.quota" for v in values)


def test_lost_after_the_first_value_is_unavailable():
    stream = stream_on_gpu(lost, cpu=lambda: iter([9]))
    assert next(stream).value == 1
    with pytest.raises(zerogpu.GpuUnavailable):
        next(stream)


def test_other_errors_are_raised_as_they_are():
    def bad():
        raise ValueError("bad photo")
        yield

    with pytest.raises(ValueError, match="bad photo"):
        list(stream_on_gpu(bad, cpu=lambda: iter([1])))
