"""The page: a short header, the photo and the example photos on the left, the tabs on the right.

At 1280x720 (a classroom projector) the photo, the examples and the top-5 are visible together without scrolling;
on a 390x844 phone the two columns wrap into one (each has a minimum width), photo first.
"""

from __future__ import annotations

import gradio as gr

from .endpoint import endpoint, wire
from .components import PhotoInput
from .i18n import label, toast_title_css
from .limits import DELETE_CACHE
from .page import Page
from .services import Services
from .share import ShareLinks
from .tabs.attributions import AttributionsTab
from .tabs.aux_heads import AuxHeadsTab
from .tabs.branches import BranchesTab
from .tabs.classify import QUICK_CSS, ClassifyTab
from .tabs.live import LIVE_CSS, LiveTab
from .tabs.lesson import LessonTab
from .tabs.report import ReportPanel
from .tabs.units import UnitsTab

__all__ = ["build_page", "css", "Banner"]

# Readable on a projector (1280x720) and a phone (390x844): larger body text, side margins that shrink on small
# screens, a compact header. Gradio copies top-level rules as they are but scopes rules inside @media to its
# ".contain" element, so the page margin (on an outer element) uses clamp() instead of a media query.
_BASE_CSS = """
.gradio-container { font-size: 16px; }
.main.fillable { padding-left: clamp(8px, 2.5vw, 32px) !important; padding-right: clamp(8px, 2.5vw, 32px) !important; }
#title h1 { margin: 0 0 2px 0; font-size: 1.7rem; }
#title p { margin: 0; }
#top5 .output-class { font-size: 1.6rem; }
@media (max-width: 600px) {
  #title h1 { font-size: 1.4rem !important; }
}
"""


def css() -> str:
    return _BASE_CSS + QUICK_CSS + LIVE_CSS + toast_title_css()


class Banner:
    """The loud line under the title when the weights are untrained."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @endpoint()
    def text(self, *, lang: str) -> str:
        weights = self.services.engine.weights
        return f"### ⚠️ {weights.message.text(lang)}" if weights.warning else ""


def build_page(services: Services) -> gr.Blocks:
    """Every component and event of the page, for ``services`` (nothing is loaded or launched here)."""
    classify, branches = ClassifyTab(services), BranchesTab(services)
    attributions, aux_heads, report = AttributionsTab(services), AuxHeadsTab(services), ReportPanel(services)
    lesson, share = LessonTab(services), ShareLinks(services)
    units = UnitsTab(services)
    banner_text = Banner(services)
    live = LiveTab(services)
    with gr.Blocks(title="GoogLeNet Explorer", delete_cache=DELETE_CACHE,
                   analytics_enabled=services.settings.analytics) as blocks:
        # One I18N key per Markdown: Gradio's front end translates only the first key embedded in a string.
        with gr.Column(elem_id="title"):
            gr.Markdown(f"# {label('common.title')}")
            gr.Markdown(label("common.subtitle"))
        banner = gr.Markdown(elem_id="weights-banner")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300, elem_id="photo-column"):
                image = PhotoInput(label=label("common.image"), type="filepath",
                                   sources=["upload", "webcam", "clipboard"], height=250, elem_id="photo")
                classify.build_quick()  # the photo's quick first answer (webui/tabs/classify.py)
                # Examples only fill in the photo; the tabs react to its change event. No caching: nothing runs at
                # start-up (no GPU needed on ZeroGPU), and cached results would freeze server-written text in the
                # first visitor's language.
                examples = gr.Examples(examples=services.examples, inputs=image, label=label("common.examples"),
                                       cache_examples=False, examples_per_page=8)
                with gr.Accordion(label("classroom.about"), open=False, elem_id="about"):
                    gr.Markdown(label("classroom.about_text"))
                    gr.Markdown(label("classroom.howto"))
                share.build()
            with gr.Column(scale=2, min_width=320, elem_id="views-column"):
                page = Page(services=services, image=image, examples=examples, blocks=blocks)
                with gr.Tabs() as tabs:
                    page.tabs = tabs
                    classify.build(page, report)
                    branches.build(page)
                    units.build(page)
                    attributions.build(page)
                    aux_heads.build(page)
                    live.build(page)
                    lesson.build(page, units)
        report.wire(page)
        share.wire(page)
        wire(blocks.load, banner_text.text, None, banner)
        wire(blocks.load, units.facts, list(units.inputs or ()), units.facts_outputs)
    return blocks
