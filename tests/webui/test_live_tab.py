"""The Live tab's stream endpoint through the browser's own protocol (bench/live_stream.py): answers, the dropping
rule (frames sent faster than they can be classified never pile up), pause, and the lean per-frame path."""

from __future__ import annotations

import io
import threading
import time

import gradio as gr
import httpx
import numpy as np
import pytest
from PIL import Image

from bench.live_stream import LiveViewer, jpeg_frame, live_fn_index
from support import ASSETS, EXAMPLE_PHOTOS


@pytest.fixture(scope="module")
def frames() -> list[bytes]:
    return [jpeg_frame(ASSETS / "chelsea.png"), jpeg_frame(ASSETS / "coffee.png")]


@pytest.fixture(scope="module")
def fn_index(app_server) -> int:
    return live_fn_index(httpx.get(app_server.url + "config").json())


def queued(app_server) -> int:
    """Events waiting in Gradio's queue (all concurrency groups): a stream that is running is not waiting."""
    queue = app_server.app.demo._queue
    return sum(len(q.queue) for q in queue.event_queue_per_concurrency_id.values())


def test_a_viewer_gets_one_answer_per_frame_with_the_photos_top5(app_server, fn_index, frames, services):
    with httpx.Client(timeout=30) as client:
        viewer = LiveViewer(app_server.url, fn_index, [False, None, None])
        try:
            viewer.run_like_a_browser(client, frames, seconds=1.5, every_s=0.1)
        finally:
            viewer.close(client)
    labelled = [a for a in viewer.answers if a.labelled]
    assert len(labelled) >= 3 and len(viewer.answers) == viewer.sent  # waiting for each answer: nothing dropped
    rgb = np.asarray(Image.open(io.BytesIO(frames[0])).convert("RGB"))
    assert labelled[0].top1 == services.engine.top_classes(rgb).top[0].name


def test_frames_faster_than_the_network_are_dropped_not_queued(app_server, fn_index, frames):
    """Three viewers each sending a frame every 5 ms for 3 s, never waiting for answers: far more frames than one
    CPU can classify. Gradio keeps at most one waiting frame per stream, the gate drops frames that meet another being
    classified, only one runs at a time, nothing waits in the queue, and what was classified is what time allows."""
    gate = app_server.app.services.live_gate
    before = gate.counts()
    viewers = [LiveViewer(app_server.url, fn_index, [False, None, None]) for _ in range(3)]
    waiting: list[int] = []
    stop = threading.Event()

    def watch_queue() -> None:
        while not stop.is_set():
            waiting.append(queued(app_server))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch_queue, daemon=True)
    with httpx.Client(timeout=30) as client:
        start = time.monotonic()
        try:
            for viewer in viewers:
                viewer.start(client, frames[0])
            watcher.start()
            i = 0
            while time.monotonic() - start < 3.0:
                for viewer in viewers:
                    viewer.send(client, frames[i % 2])
                i += 1
                time.sleep(0.005)
            elapsed = time.monotonic() - start
        finally:
            for viewer in viewers:
                viewer.close(client)
            stop.set()
    time.sleep(0.5)  # the last frames finish
    after = gate.counts()
    sent = sum(v.sent for v in viewers)
    received = after.received - before.received
    classified = after.classified - before.classified
    dropped = after.dropped - before.dropped
    assert after.max_running == 1 and after.running == 0
    assert sent >= 150, sent
    assert received <= sent  # Gradio keeps at most one waiting frame per stream (a newer one replaces it)
    assert dropped > 0, after  # frames meeting another being classified were turned away at once
    assert classified + dropped == received
    fastest_s = 0.005  # no forward of GoogLeNet on this CPU is faster: one at a time bounds the count
    assert 3 <= classified <= elapsed / fastest_s
    assert max(waiting) == 0, waiting  # the queue never grew
    assert all(any(a.labelled for a in v.answers) for v in viewers), [len(v.answers) for v in viewers]  # turns


def test_the_gate_gives_turns_to_the_viewers_it_turned_away():
    """A viewer whose frames keep meeting another's running frame gets the next free slot, not the lucky one."""
    from webui.live_gate import LiveGate

    gate = LiveGate(1)
    served: list[str] = []

    def frame(viewer: str) -> bool:
        with gate.admit(viewer) as admitted:
            if admitted:
                served.append(viewer)
            return admitted

    with gate.admit("a") as admitted:  # a's frame is running...
        assert admitted
        assert not frame("b") and not frame("c")  # ...so b's and c's are dropped at once
    assert not frame("a")  # the slot is free, but b and c were turned away since a's answer: not a's turn
    assert frame("b") and not frame("a") and frame("c") and frame("a")
    assert served == ["b", "c", "a"]
    counts = gate.counts()
    assert counts.received == 8 and counts.dropped == 4 and counts.max_running == 1 and counts.running == 0


def test_paused_frames_are_neither_classified_nor_counted(app_server, fn_index, frames):
    from webui.tabs.live import LiveSession, LiveTab

    tab = LiveTab(app_server.app.services)
    before = tab.gate.counts()
    answer = tab.frame(frames[0], False, True, LiveSession())
    assert list(answer) == [gr.skip()] * 4  # nothing changes on the page, not even the counts
    assert tab.gate.counts() == before
    label, strip, stats, session = tab.frame(frames[0], False, False, LiveSession())
    assert len(label) == 5 and session.frame == frames[0] and session.updates == 1
    assert tab.gate.counts().classified == before.classified + 1


def test_the_strip_shows_nine_modules_and_the_same_top5(app_server, frames):
    from webui.tabs.live import LiveSession, LiveTab

    tab = LiveTab(app_server.app.services)
    label_plain, *_ = tab.frame(frames[1], False, False, LiveSession())
    label_strip, strip, _, _ = tab.frame(frames[1], True, False, LiveSession())
    assert list(label_strip) == list(label_plain)
    assert np.allclose(list(label_strip.values()), list(label_plain.values()), atol=1e-3)
    assert strip.count('class="live-module"') == 9 and "3a" in strip and "5b" in strip


def test_array_preprocessing_matches_the_pil_path(engine):
    """The live path's torch-only preprocessing equals the upload path within one uint8 step, and so do the
    answers."""
    from googlenet.transforms import array_to_tensor, preprocess

    for photo in EXAMPLE_PHOTOS:
        image = Image.open(photo).convert("RGB")
        _, expected = preprocess(image)
        got = array_to_tensor(np.asarray(image))
        assert got.shape == expected.shape == (1, 3, 224, 224)
        assert (got - expected).abs().max() < 0.02  # 1/255 / std
        assert [s.name for s in engine.top_classes(np.asarray(image)).top[:1]] == \
            [s.name for s in engine.classify(photo).top[:1]]
