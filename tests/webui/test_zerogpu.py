"""ZeroGPU, simulated by the stand-in ``spaces`` package (tests/fake_spaces): a forked worker per call, pickled
arguments and results, the duration asked for, the quota, worker failures and progress forwarding.

First webui.zerogpu on its own (the stand-in loaded in this process), then the app itself under Spaces' variables:
every heavy endpoint runs in the worker and answers exactly what the app answers without ZeroGPU; without a GPU the
answer comes from the CPU and says so, in English and Korean, or a clear refusal when the CPU cannot do it in time.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pickle
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from googlenet.attributions import AttributionSettings, BudgetExceeded
from googlenet.images import ImageInputError
from googlenet.messages import Message, tr
from support import FAKE_SPACES, ROOT

PHOTO = ROOT / "assets" / "chelsea.png"
KOREAN = {"Accept-Language": "ko-KR,ko;q=0.9"}


# ---------------------------------------------------------------------------------------------------------------
# webui.zerogpu with the stand-in spaces package, in this process
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Sim:
    zerogpu: object  # the reloaded webui.zerogpu module
    control: Path
    log: Path

    def set(self, **control) -> None:
        self.control.write_text(json.dumps(control))

    def calls(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture()
def sim(monkeypatch, tmp_path):
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setenv("FAKE_SPACES_CONTROL", str(tmp_path / "control.json"))
    monkeypatch.setenv("FAKE_SPACES_LOG", str(tmp_path / "log.jsonl"))
    spec = importlib.util.spec_from_file_location("spaces", FAKE_SPACES / "spaces" / "__init__.py")
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    monkeypatch.setitem(sys.modules, "spaces", fake)
    from webui import zerogpu

    yield Sim(importlib.reload(zerogpu), tmp_path / "control.json", tmp_path / "log.jsonl")
    monkeypatch.undo()
    importlib.reload(zerogpu)


def test_tasks_run_in_a_forked_worker_with_pickled_arguments(sim):
    z = sim.zerogpu
    assert z.ZEROGPU

    @z.gpu(duration=20)
    def where(tag: str) -> tuple[int, str]:
        return os.getpid(), tag

    pid, tag = where("x")
    assert pid != os.getpid() and tag == "x"
    [call] = sim.calls()
    assert call["worker_pid"] == pid and call["duration"] == 20
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):  # a closure cannot travel to the worker
        where(lambda: None)


def test_the_duration_function_gets_the_calls_own_arguments(sim):
    z = sim.zerogpu
    seen = []

    def seconds(key: str, n: int) -> float:
        seen.append((key, n, os.getpid()))
        return 10.0 + n

    @z.gpu(duration=seconds)
    def task(key: str, n: int) -> int:
        return n * 2

    assert task("k", 7) == 14
    assert seen == [("k", 7, os.getpid())]  # evaluated in the server, before scheduling
    assert sim.calls()[0]["duration"] == 17.0 and sim.calls()[0]["callable_duration"]


def test_keyed_errors_cross_back_intact_and_others_become_worker_errors(sim):
    z = sim.zerogpu

    @z.gpu
    def bad_photo() -> None:
        raise ImageInputError("errors.corrupt", format="JPEG")

    @z.gpu
    def crash() -> None:
        raise RuntimeError("a bug")

    @z.gpu
    def unpicklable():
        return lambda: None

    with pytest.raises(ImageInputError) as info:
        bad_photo()
    assert info.value.key == "errors.corrupt" and info.value.params == {"format": "JPEG"}
    for task, detail in ((crash, "RuntimeError"), (unpicklable, None)):
        with pytest.raises(Exception) as info:
            task()
        assert getattr(info.value, "title", None) == "ZeroGPU worker error"
        assert detail is None or info.value.message == detail
        assert z.gpu_failure(info.value) is z.GpuFailure.FAILED


def test_generators_yield_across_the_boundary(sim):
    z = sim.zerogpu

    @z.gpu(duration=5)
    def count(n: int):
        for i in range(n):
            yield i, os.getpid()
        raise BudgetExceeded("errors.budget_exceeded", method=Message("attributions.method.saliency"), seconds=9,
                             budget=1)

    received = []
    with pytest.raises(BudgetExceeded) as info:
        for value in count(3):
            received.append(value)
    assert [i for i, _ in received] == [0, 1, 2] and {pid for _, pid in received} != {os.getpid()}
    assert info.value.params["seconds"] == 9
    assert sim.calls()[0]["yields"] == 4  # three values, then the keyed error, carried across as a value


def test_a_refused_duration_is_answered_from_the_cpu(sim):
    z = sim.zerogpu

    @z.gpu(duration=lambda n: n)
    def task(n: int) -> str:
        return "gpu"

    sim.set(left_s=10)
    assert z.run_on_gpu(task, 5, cpu=lambda: "cpu") == z.Ran("gpu")  # a small request still fits the quota
    ran = z.run_on_gpu(task, 60, cpu=lambda: "cpu")
    assert ran.value == "cpu" and ran.on_cpu == Message("zerogpu.reason.quota")
    assert [c.get("refused") for c in sim.calls()] == [None, "quota"]
    for lang in ("en", "ko"):
        text = ran.notice().text(lang)
        assert text.startswith(tr("zerogpu.reason.quota", lang)) and len(text) > 60
    assert "할당량" in ran.notice().text("ko")


def test_without_a_cpu_answer_the_reader_is_told_why(sim):
    z = sim.zerogpu

    @z.gpu(duration=30)
    def task() -> str:
        return "gpu"

    sim.set(left_s=0)
    with pytest.raises(z.GpuUnavailable) as info:
        z.run_on_gpu(task)
    assert info.value.key == "zerogpu.unavailable"

    def too_slow() -> str:
        raise BudgetExceeded("errors.budget_exceeded", method=Message("attributions.method.occlusion"), seconds=300,
                             budget=30)

    with pytest.raises(z.GpuUnavailable) as info:
        z.run_on_gpu(task, cpu=too_slow, too_slow=(BudgetExceeded,))
    assert info.value.key == "zerogpu.cpu_refused"
    english, korean = info.value.text("en"), info.value.text("ko")
    assert "300 s" in english and "Occlusion" in english and tr("zerogpu.reason.quota", "en") in english
    assert re.search("[가-힣]", korean) and "300" in korean

    def bad_photo() -> str:
        raise ImageInputError("errors.corrupt", format="JPEG")

    with pytest.raises(ImageInputError):  # not "no GPU": the photo's own problem, told as it is
        z.run_on_gpu(task, cpu=bad_photo, too_slow=(BudgetExceeded,))


def test_an_aborted_worker_is_answered_from_the_cpu(sim):
    z = sim.zerogpu

    @z.gpu(duration=30)
    def task() -> str:
        return "gpu"

    sim.set(worker="abort")
    ran = z.run_on_gpu(task, cpu=lambda: "cpu")
    assert ran.value == "cpu" and ran.on_cpu.key == "zerogpu.reason.failed"
    assert "GPU task aborted" in ran.notice().text("en")


def test_every_zerogpu_error_of_spaces_is_recognised():
    import gradio as gr

    from webui.zerogpu import GpuFailure, gpu_failure

    unavailable = ["ZeroGPU quota exceeded", "ZeroGPU illegal duration", "ZeroGPU pending credits exceeded",
                   "ZeroGPU queue timeout", "ZeroGPU client error"]
    for title in unavailable:
        assert gpu_failure(gr.Error("...", title=title)) is GpuFailure.UNAVAILABLE, title
    assert gpu_failure(gr.Error("GPU task aborted", title="ZeroGPU worker error")) is GpuFailure.FAILED
    assert gpu_failure(RuntimeError("ZeroGPU API /schedule error: 502 (Bad Gateway)")) is GpuFailure.UNAVAILABLE
    assert gpu_failure(gr.Error("Upload a photo first", title="Error")) is None  # our own errors pass through
    assert gpu_failure(RuntimeError("anything else")) is None


def test_durations_follow_the_declared_cost(services):
    from webui.limits import ZERO_GPU_TIME, ZeroGpuTime
    from webui.tabs.attribution_work import AttributionJob, attributions_seconds

    def job(preset: str, budget=None) -> AttributionJob:
        return AttributionJob(AttributionSettings("integrated_gradients", preset=preset, internal_batch_size=4),
                              budget, False, "")

    fast = attributions_seconds(services.key, str(PHOTO), None, (job("fast"),))
    thorough = attributions_seconds(services.key, str(PHOTO), None, (job("thorough"),))
    both = attributions_seconds(services.key, str(PHOTO), None, (job("fast"), job("thorough")))
    assert ZERO_GPU_TIME.min_s <= fast <= thorough <= both <= ZERO_GPU_TIME.max_s
    assert thorough > fast  # this machine's CPU throughput: IG thorough costs several seconds more
    plan = services.attributor.fit_to_budget(job("thorough").settings, None,
                                             extra=__import__("googlenet.attributions", fromlist=["x"])
                                             .faithfulness_cost(10))
    assert thorough == ZERO_GPU_TIME.seconds(plan.seconds)
    time_model = ZeroGpuTime(startup_s=10, margin=1.5, min_s=15, max_s=120)
    assert [time_model.seconds(s) for s in (0, 4, 20, 1000)] == [15, 16, 40, 120]


# ---------------------------------------------------------------------------------------------------------------
# The app under Spaces' variables, with the stand-in spaces package: one forked worker per GPU call
# ---------------------------------------------------------------------------------------------------------------

SPACES_ENV = {"SYSTEM": "spaces", "SPACE_ID": "teacher/googlenet-explorer", "SPACE_AUTHOR_NAME": "teacher",
              "SPACE_REPO_NAME": "googlenet-explorer", "SPACE_HOST": "teacher-googlenet-explorer.hf.space",
              "SPACES_ZERO_GPU": "true"}


@dataclass
class SpacesApp:
    server: object  # bench.launcher.Server
    control: Path
    log: Path

    def set(self, **control) -> None:
        self.control.write_text(json.dumps(control))

    def reset(self) -> None:
        self.control.unlink(missing_ok=True)

    def calls(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []


@pytest.fixture(scope="module")
def spaces_app(tmp_path_factory, weights_file):
    from bench.launcher import launched_app

    work = tmp_path_factory.mktemp("zerogpu")
    control, log = work / "control.json", work / "calls.jsonl"
    # The CPU may answer for the GPU only what it can do in 20 s (the branch attribution with layer IG cannot).
    # /classify batched, as on a real ZeroGPU Space (its device is CUDA, where dynamic batching is on).
    env = dict(SPACES_ENV, PYTHONPATH=str(FAKE_SPACES), FAKE_SPACES_CONTROL=str(control), FAKE_SPACES_LOG=str(log),
               GOOGLENET_CPU_FALLBACK_S="20", GOOGLENET_CLASSIFY_BATCH="1")
    with launched_app(work, weights_file, extra_env=env) as server:
        yield SpacesApp(server, control, log)


@pytest.fixture()
def zerogpu_app(spaces_app):
    spaces_app.reset()
    yield spaces_app
    spaces_app.reset()
    assert "Traceback" not in spaces_app.server.log(), spaces_app.server.log()[-4000:]


# (endpoint, arguments, the GPU task it must run). Deterministic methods only (SmoothGrad and GradientSHAP draw
# noise from the process's random state), and budgets no run needs to scale down for.
HEAVY_CALLS = [
    ("/classify", lambda p: (p,), "classify_batch_on_device"),
    ("/branches", lambda p: (p, "inception4b", "l2_energy", 4, "per_branch"), "capture_on_device"),
    ("/attribute", lambda p: (p, "integrated_gradients", "top1", "fast", "inception4e", "signed", "black", 120, 0, 0,
                              0), "attributions_on_device"),
    ("/attribute", lambda p: (p, "layer_gradcam", "281", "fast", "inception4c", "absolute", "black", 120, 0, 0, 0),
     "attributions_on_device"),
    ("/compare_attributions", lambda p: (p, ["saliency", "guided_backprop"], "top1", "fast", "inception4e", "signed",
                                         "shared", 120), "attributions_on_device"),
    ("/sanity_check", lambda p: (p, "saliency", "top1", "fast", "inception4e", "cascading", 120), "sanity_on_device"),
    ("/attribute_branches", lambda p: (p, "top1", "grad_x_activation", "fast", "inception4c", "signed"),
     "branch_attribution_on_device"),
    ("/aux_heads", lambda p: (p, True, True, 0, "batch", 3, "alone"), "aux_heads_on_device"),
    ("/dataset_examples", lambda p: (p, "inception4a", "branch2", 5), "dataset_examples_on_device"),
]
_TIMES = re.compile(r"\d+(?:\.\d+)? ?(?:ms|s)\b")


def comparable(value):
    """An answer with what legitimately differs between two runs taken out: times, and files by their bytes."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if "elapsed" not in k and k != "estimated_seconds"}
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    if isinstance(value, str) and os.path.isfile(value):
        return ("file", Path(value).read_bytes())
    if isinstance(value, str):
        return _TIMES.sub("#", value)
    return value


def test_uploads_are_not_prefetched_under_zerogpu(zerogpu_app):
    """Its GPU only serves queued events: an upload must not start a forward pass outside them."""
    assert "uploads: not prefetched (ZeroGPU)" in zerogpu_app.server.log()


def test_every_heavy_endpoint_runs_on_the_worker_and_answers_the_same(zerogpu_app, app_process):
    spaces, plain = zerogpu_app.server.client(), app_process.client()
    for endpoint, arguments, task in HEAVY_CALLS:
        before = len(zerogpu_app.calls())
        on_zerogpu = spaces.predict(*arguments(handle_file(str(PHOTO))), api_name=endpoint)
        without = plain.predict(*arguments(handle_file(str(PHOTO))), api_name=endpoint)
        assert comparable(on_zerogpu) == comparable(without), endpoint
        calls = zerogpu_app.calls()[before:]
        assert [c["name"] for c in calls] == [task], (endpoint, calls)
        call = calls[0]
        assert call["worker_pid"] not in (call["server_pid"], None) and call["server_pid"] == zerogpu_app.server.pid
        assert 15 <= call["duration"] <= 120, call
        if task not in ("classify_batch_on_device", "capture_on_device", "aux_heads_on_device",
                        "dataset_examples_on_device"):
            assert call["callable_duration"] and call.get("progress_events", 0) > 0, call
    log = zerogpu_app.server.log()
    assert "fake-spaces: imported; torch imported before spaces: False" in log


def test_progress_from_the_worker_reaches_the_client(zerogpu_app):
    client = zerogpu_app.server.client()
    job = client.submit(handle_file(str(PHOTO)), "integrated_gradients", "top1", "fast", "inception4e", "signed",
                        "black", 120, 0, 0, 0, api_name="/attribute")
    seen = set()
    while not job.done():
        status = job.status()
        for unit in status.progress_data or []:
            seen.add((unit.desc, round(unit.progress or 0, 3)))
        time.sleep(0.02)
    job.result()
    fractions = sorted(p for _, p in seen)
    assert len(fractions) >= 3 and fractions[-1] > 0.5, seen  # several steps, counted in the worker
    assert all(desc == tr("attributions.progress", "en", what=tr("attributions.method.integrated_gradients", "en"))
               for desc, _ in seen)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_without_gpu_quota_the_cpu_answers_and_says_so(zerogpu_app, app_process, lang):
    headers = KOREAN if lang == "ko" else {}
    spaces = Client(zerogpu_app.server.url, verbose=False, headers=headers)
    plain = Client(app_process.url, verbose=False, headers=headers)
    zerogpu_app.set(left_s=0)
    said = tr("zerogpu.on_cpu", lang, reason=tr("zerogpu.reason.quota", lang))
    args = (handle_file(str(PHOTO)), "integrated_gradients", "top1", "fast", "inception4e", "signed", "black", 120,
            0, 0, 0)
    figure, summary, raw = spaces.predict(*args, api_name="/attribute")
    assert summary.endswith(said), summary
    assert comparable(raw) == comparable(plain.predict(*args, api_name="/attribute")[2])  # the same numbers
    *_, info, _ = spaces.predict(handle_file(str(PHOTO)), api_name="/classify")
    assert said in info
    _, _, branch_raw = spaces.predict(handle_file(str(PHOTO)), "top1", "grad_x_activation", "fast", "inception4c",
                                      "signed", api_name="/attribute_branches")
    assert branch_raw["computed_on"] == said
    assert all(c.get("refused") == "quota" for c in zerogpu_app.calls()[-3:])
    if lang == "ko":
        assert "CPU" in said and re.search("[가-힣]", said)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_without_gpu_and_over_the_cpu_limit_the_refusal_is_clear(zerogpu_app, lang):
    spaces = Client(zerogpu_app.server.url, verbose=False, headers=KOREAN if lang == "ko" else {})
    zerogpu_app.set(left_s=0)
    with pytest.raises(Exception) as info:  # nine layer-IG runs: far over the 20 s the CPU may take for the GPU
        spaces.predict(handle_file(str(PHOTO)), "top1", "layer_integrated_gradients", "thorough", "inception4c",
                       "signed", api_name="/attribute_branches")
    text = str(info.value)
    method = tr("attributions.branch_method.layer_integrated_gradients", lang)
    expected = re.escape(tr("zerogpu.cpu_refused", lang, reason=tr("zerogpu.reason.quota", lang),
                            detail=tr("errors.budget_exceeded", lang, method=method, seconds=999, budget=20)))
    assert re.fullmatch(expected.replace("999", r"\d+"), text), text
    assert zerogpu_app.calls()[-1]["refused"] == "quota"


def test_a_failed_gpu_task_is_answered_from_the_cpu(zerogpu_app):
    zerogpu_app.set(worker="abort")
    charts, summary, raw = zerogpu_app.server.client().predict(handle_file(str(PHOTO)), True, True, 0, "batch", 3,
                                                               "alone", api_name="/aux_heads")
    assert summary.endswith(tr("zerogpu.on_cpu", "en", reason=tr("zerogpu.reason.failed", "en",
                                                                  detail="GPU task aborted")))
    assert len(raw["heads"]["aux1"]["top"]) == 5


def test_a_bad_photo_gets_the_same_message_under_zerogpu(zerogpu_app, app_process, tmp_path):
    """The photo is decoded in the worker: its keyed error must cross back as itself, not as "ZeroGPU worker
    error: ImageInputError" (spaces passes only gr.Error through)."""
    bad = tmp_path / "truncated.jpg"
    bad.write_bytes(PHOTO.read_bytes()[:3000])
    for headers in ({}, KOREAN):
        messages = []
        for server in (zerogpu_app.server, app_process):
            with pytest.raises(Exception) as info:
                Client(server.url, verbose=False, headers=headers).predict(
                    handle_file(str(bad)), True, True, 0, "batch", 3, "alone", api_name="/aux_heads")
            messages.append(str(info.value))
        assert messages[0] == messages[1] and "ZeroGPU" not in messages[0], messages
    # batched /classify (as on a ZeroGPU Space) answers a bad photo with the message instead of failing the batch
    *_, info, raw = zerogpu_app.server.client().predict(handle_file(str(bad)), api_name="/classify")
    assert raw["error"] in info and "ZeroGPU" not in info


def test_under_zerogpu_the_server_never_measures_on_the_gpu(monkeypatch, services):
    """On a real ZeroGPU Space the server's models sit on a GPU only the workers get: the attributor estimates (the
    cost shown before a run, the durations asked for) from the assumed GPU throughput, never by running the model
    in the server. A CPU engine measures its own (the CPU copy that answers without a GPU)."""
    import webui.services as services_module
    from webui.limits import ZERO_GPU_TIME

    monkeypatch.setattr(services_module, "ZEROGPU", True)
    assert services_module.assumed_throughput("cuda") == ZERO_GPU_TIME.throughput
    assert services_module.assumed_throughput("cpu") is None
    monkeypatch.setattr(services_module, "ZEROGPU", False)
    assert services_module.assumed_throughput("cuda") is None
    assert services.cpu() is services  # already on the CPU: no second copy
