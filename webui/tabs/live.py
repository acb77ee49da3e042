"""The Live tab: the camera streams frames and the top-5 follows as you move; optionally the nine Inception modules'
branch shares too. Pause stops the updates; "freeze this frame" makes the frame the page's photo for the other tabs.

Each frame does only what the view shows: the JPEG from the browser is decoded once (the safe decoder of every
upload), then straight to the network's input (no crop image kept, no JSON, no figure:
``Engine.top_classes``), and only when the strip is on is the forward a capture of the branch outputs instead.
Frames that arrive while the frames allowed at once are being classified are dropped at once, never queued
(webui/live_gate.py says why Gradio's own streaming needs that rule with several viewers, and counts them).
"""

from __future__ import annotations

import html
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Optional

import gradio as gr
import numpy as np
import torch
from gradio import processing_utils

from googlenet.activations import Measure, capture, overview_shares
from googlenet.images import open_image
from googlenet.inference import TopClasses, topk
from googlenet.model import BRANCHES, INCEPTION_MODULES, branch_display_name
from googlenet.render.branches import BRANCH_COLOURS
from googlenet.transforms import preprocess

from ..components import LiveFrame
from ..endpoint import endpoint, wire
from ..i18n import label, tr
from ..limits import ZERO_GPU_TIME
from ..page import Page
from ..services import Services
from ..zerogpu import gpu
from .classify import top5_labels

__all__ = ["LiveTab", "LiveSession", "LiveAnswer", "live_on_device", "STREAM_EVERY_S"]

#: How often the browser takes a frame (seconds). Its webcam takes none while the previous one is unanswered, so
#: the updates a viewer gets are one per answer, at most 10 a second.
STREAM_EVERY_S = 0.1
#: The measure of the branch-share strip (the branches tab's default).
STRIP_MEASURE = Measure.ACTIVATION_SUM


@dataclass(frozen=True)
class LiveAnswer:
    """One frame's answer: the top-5, and the 9 x 4 branch shares when the strip is on."""

    top: TopClasses
    shares: Optional[np.ndarray] = None  # modules in network order x branches 1..4; rows sum to 1


@dataclass(frozen=True)
class LiveSession:
    """Per-viewer state: the last classified frame (what "freeze" sends to the photo) and this viewer's counts."""

    frame: Optional[bytes] = None  # the JPEG the browser sent
    viewer: str = field(default_factory=lambda: uuid.uuid4().hex)  # this camera stream, for the gate's turns
    updates: int = 0
    dropped: int = 0
    last_ms: float = 0.0


@gpu(duration=ZERO_GPU_TIME.seconds())
def live_on_device(services_key: str, frame: bytes, with_shares: bool) -> LiveAnswer:
    """One camera frame through the network. On ZeroGPU this runs in a worker process: CPU data in and out."""
    engine = Services.find(services_key).engine
    image = open_image(frame, engine.image_limits)  # RGB, the safe decoder of every upload
    if not with_shares:
        return LiveAnswer(engine.top_classes(image))
    start = time.perf_counter()
    _, x = preprocess(image, engine.preprocess_spec)  # 1 x 3 x 224 x 224
    x = x.to(engine.device)
    cap = capture(engine.fast, x)  # the 36 branch outputs and the logits, one forward
    top = topk(torch.from_numpy(cap.logits).softmax(dim=0))  # 1000 -> top-5
    shares = overview_shares(cap, STRIP_MEASURE)  # 9 x 4
    return LiveAnswer(TopClasses(top, (time.perf_counter() - start) * 1000.0), shares)


def strip_html(shares: np.ndarray, lang: str) -> str:
    """The nine modules' branch shares as one compact row of stacked bars (HTML: nothing to draw or encode)."""
    cells = []
    for module, row in zip(INCEPTION_MODULES, shares):
        parts = "".join(
            f'<div title="{html.escape(branch_display_name(branch, lang))} {share:.0%}" '
            f'style="height:{share * 100:.1f}%;background:{colour}"></div>'
            for branch, share, colour in zip(BRANCHES, row, BRANCH_COLOURS))
        cells.append(f'<div class="live-module"><div class="live-bar">{parts}</div>'
                     f'<span>{module.removeprefix("inception")}</span></div>')
    legend = " ".join(f'<span style="color:{colour}">■</span> {html.escape(branch_display_name(branch, lang))}'
                      for branch, colour in zip(BRANCHES, BRANCH_COLOURS))
    return (f'<div class="live-strip">{"".join(cells)}</div>'
            f'<div class="live-legend">{html.escape(tr("live.strip_caption", lang))} · {legend}</div>')


LIVE_CSS = """
#live-strip .live-strip { display: flex; gap: 6px; align-items: flex-end; height: 110px; }
#live-strip .live-module { display: flex; flex-direction: column; align-items: center; flex: 1; height: 100%; }
#live-strip .live-bar { display: flex; flex-direction: column-reverse; width: 100%; flex: 1; }
#live-strip .live-module span { font-size: 0.8rem; }
#live-strip .live-legend { font-size: 0.8rem; margin-top: 4px; }
#live-stats { font-size: 0.8rem; opacity: 0.8; }
"""


class LiveTab:
    """Live: one streamed frame at a time per viewer, the gate in front of the network for all of them."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.gate = services.live_gate
        self._cache: Optional[str] = None

    def _stats(self, session: LiveSession, lang: str) -> str:
        return tr("live.stats", lang, updates=session.updates, dropped=session.dropped, ms=round(session.last_ms))

    @endpoint()
    def frame(self, frame: Optional[bytes], with_strip: bool, paused: bool, session: Optional[LiveSession],
              *, lang: str) -> tuple[Any, Any, Any, Any]:
        """One camera frame: its top-5 (and the branch strip when on), or nothing at all when paused or dropped."""
        session = session or LiveSession()
        if frame is None or paused:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        with self.gate.admit(session.viewer) as admitted:
            if not admitted:  # another frame is being classified: drop this one now, the next will be newer
                session = replace(session, dropped=session.dropped + 1)
                return gr.skip(), gr.skip(), self._stats(session, lang), session
            answer = self.services.on_device(live_on_device, frame, bool(with_strip)).value
            self.gate.classified()
        session = replace(session, frame=frame, updates=session.updates + 1, last_ms=answer.top.elapsed_ms)
        strip = strip_html(answer.shares, lang) if answer.shares is not None else gr.skip()
        return top5_labels(answer.top, lang), strip, self._stats(session, lang), session

    @endpoint()
    def set_paused(self, paused: bool, *, lang: str) -> tuple[bool, Any, Any]:
        """Pause or resume: the state the frames read, and which of the two buttons shows."""
        return paused, gr.update(visible=not paused), gr.update(visible=paused)

    @endpoint()
    def show_strip(self, with_strip: bool, *, lang: str) -> Any:
        return gr.update(visible=bool(with_strip))

    @endpoint()
    def freeze(self, session: Optional[LiveSession], *, lang: str) -> Any:
        """The last classified frame becomes the page's photo (a JPEG in Gradio's cache): every tab reads it."""
        if session is None or session.frame is None:
            gr.Warning(tr("live.no_frame", lang), title=tr("common.toast_warning", lang))
            return gr.skip()
        return processing_utils.save_bytes_to_cache(session.frame, "live-frame.jpg", self._cache)

    def build(self, page: Page) -> None:
        self._cache = page.image.GRADIO_CACHE  # where the frozen frame is saved, as an upload would be
        with gr.Tab(label("live.tab"), id="live"):
            gr.Markdown(label("live.explain"))
            with gr.Row(equal_height=False):
                with gr.Column(min_width=260):
                    camera = LiveFrame(sources=["webcam"], streaming=True, label=label("live.camera"),
                                       elem_id="live-camera", height=260, webcam_options=gr.WebcamOptions(mirror=False))
                    with gr.Row():
                        pause = gr.Button(label("live.pause"), elem_id="live-pause", size="sm")
                        resume = gr.Button(label("live.resume"), elem_id="live-resume", size="sm", visible=False)
                        freeze = gr.Button(label("live.freeze"), elem_id="live-freeze", size="sm")
                    with_strip = gr.Checkbox(False, label=label("live.strip"), elem_id="live-strip-on")
                with gr.Column(min_width=260):
                    top5 = gr.Label(num_top_classes=5, label=label("live.top5"), elem_id="live-top5")
                    strip = gr.HTML(elem_id="live-strip", visible=False)
                    stats = gr.Markdown(elem_id="live-stats")
            paused = gr.State(False)
            session = gr.State(None)
        # No concurrency limit: a stream holds its slot while the camera is on, and each viewer has one; the gate
        # (services.live_gate, Limits.live) bounds the frames classified at once instead.
        wire(camera.stream, self.frame, [camera, with_strip, paused, session], [top5, strip, stats, session],
             stream_every=STREAM_EVERY_S, time_limit=None, concurrency_limit=None, show_progress="hidden")
        wire(pause.click, self.set_paused, gr.State(True), [paused, pause, resume])
        wire(resume.click, self.set_paused, gr.State(False), [paused, pause, resume])
        wire(with_strip.change, self.show_strip, with_strip, strip)
        wire(freeze.click, self.freeze, session, page.image)
