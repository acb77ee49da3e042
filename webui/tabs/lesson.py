"""The Lesson tab: a guided walkthrough for a class, from a photo to what one unit of the network looks for.

Seven steps (``gr.Walkthrough``): the photo, the top-5, the crop the network saw, the nine Inception modules and their
branches, one attribution and its faithfulness, the aux heads and why they are untrained, what a unit looks for.
Each step is a few sentences (locale keys, translated by the browser) and the live view it talks about, computed
from the page's photo by the other tabs' own code (cheap settings: saliency for the attribution, one run of the
aux heads), only when the step is shown, and once per photo. The example photos alone are enough to present it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import gradio as gr

from googlenet.activations import Measure, overview_shares
from googlenet.model import branch_display_name, module_display_name
from googlenet.render.branches import BranchText, render_overview, top_channels

from ..endpoint import endpoint, wire
from ..i18n import label, tr
from ..page import Page
from ..services import Services
from .attributions import TOP1, AttributionsTab
from .aux_heads import AuxHeadsTab
from .branches import BranchesTab
from .classify import classify_on_device, top5_labels
from .units import UnitsTab

__all__ = ["LessonTab", "LessonStep", "STEPS", "UNITS_TAB"]

UNITS_TAB = "units"  # the tab the last step opens ("What a unit looks for")


@dataclass(frozen=True)
class LessonStep:
    id: int  # gr.Step ids: 1, 2, ...
    name: str
    title: str  # locale keys
    text: str


STEPS: tuple[LessonStep, ...] = (
    LessonStep(1, "photo", "lesson.photo.title", "lesson.photo.text"),
    LessonStep(2, "top5", "lesson.top5.title", "lesson.top5.text"),
    LessonStep(3, "crop", "lesson.crop.title", "lesson.crop.text"),
    LessonStep(4, "modules", "lesson.modules.title", "lesson.modules.text"),
    LessonStep(5, "attribution", "lesson.attribution.title", "lesson.attribution.text"),
    LessonStep(6, "aux", "lesson.aux.title", "lesson.aux.text"),
    LessonStep(7, "unit", "lesson.unit.title", "lesson.unit.text"),
)
_BY_ID = {step.id: step for step in STEPS}
_VIEWS = ("photo", "top5", "crop", "modules", "attr_figure", "attr_summary", "aux_charts", "aux_summary", "unit_text",
          "unit")
# which views each step computes (the last step shows the Units tab, nothing to compute here)
_STEP_VIEWS = {"photo": ("photo",), "top5": ("top5",), "crop": ("crop",), "modules": ("modules",),
               "attribution": ("attr_figure", "attr_summary"), "aux": ("aux_charts", "aux_summary"),
               "unit": ("unit_text", "unit")}
UNIT_MODULE = "inception4c"  # the last step offers this module's unit that responds most to the photo


def step_id(value: Any) -> int:
    """A step id from the page (the state, a link): an int in range, else the first step."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return STEPS[0].id
    return number if number in _BY_ID else STEPS[0].id


class LessonTab:
    """The lesson's events. ``done`` (per-user state) maps a step id to the photo its views were computed for."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.branches = BranchesTab(services)
        self.attributions = AttributionsTab(services)
        self.aux_heads = AuxHeadsTab(services)

    # --- the views of one step -------------------------------------------------------------------------------

    def compute(self, name: str, image: str, lang: str) -> dict[str, Any]:
        """The views of step ``name`` for the photo ``image``, by the tabs' own code."""
        if name == "photo":
            return {"photo": image}
        if name in ("top5", "crop"):
            result = self.services.on_device(classify_on_device, image).value
            return {"top5": top5_labels(result, lang), "crop": result.crop}
        if name == "modules":
            session, _ = self.branches.capture(image, lang)
            measure = Measure.ACTIVATION_SUM
            overview = render_overview(overview_shares(session.capture, measure),
                                       tr(f"branches.measure.{measure.value}", lang), BranchText.load(lang))
            return {"modules": overview}
        if name == "attribution":  # saliency: one backward pass, then its deletion/insertion curves
            figure, summary, _ = self.attributions.attribution_views(
                image, "saliency", TOP1, "fast", "inception4e", "absolute", "black", 30, 0, 0, 0, lang)
            return {"attr_figure": figure, "attr_summary": summary}
        if name == "aux":  # one deterministic run (no dropout, stored BatchNorm statistics): aux1, aux2 and main
            charts, summary, _ = self.aux_heads.run(image, True, False, 0, "running", 1, "alone", lang)
            return {"aux_charts": charts, "aux_summary": summary}
        if name == "unit":  # the most active channel of UNIT_MODULE on this photo (one forward pass)
            session, _ = self.branches.capture(image, lang)
            best = max((ranks[0] for ranks in top_channels(session.capture, UNIT_MODULE, 1)),
                       key=lambda rank: rank.mean_activation)
            text = tr("lesson.unit.chosen", lang, module=module_display_name(UNIT_MODULE),
                      branch=branch_display_name(best.branch, lang), channel=best.index, value=best.mean_activation)
            return {"unit_text": text, "unit": (UNIT_MODULE, best.branch, best.index)}
        return {}

    def show(self, step: int, image: Optional[str], done: Optional[dict], lang: str) -> tuple:
        """The outputs for showing ``step``: its views (computed unless already for this photo), the others as
        they are; without a photo every view is cleared."""
        done = dict(done or {})
        if not image:
            return (*(None for _ in _VIEWS), {})
        name = _BY_ID[step].name
        values: dict[str, Any] = {}
        if done.get(step) != image:
            values = self.compute(name, image, lang)
            done[step] = image
            if name in ("top5", "crop"):  # one classification fills both
                done[_step_named("top5")] = done[_step_named("crop")] = image
        return (*(values.get(view, gr.skip()) for view in _VIEWS), done)

    # --- events ----------------------------------------------------------------------------------------------

    def go(self, step: int, image: Optional[str], done: Optional[dict], lang: str) -> tuple:
        return (gr.Walkthrough(selected=step), step, *self.show(step, image, done, lang))

    @endpoint(trims_memory=True)
    def next(self, current: Optional[int], image: Optional[str], done: Optional[dict], *, lang: str) -> tuple:
        """Next: select the following step and show its views."""
        return self.go(min(step_id(current) + 1, STEPS[-1].id), image, done, lang)

    @endpoint(trims_memory=True)
    def back(self, current: Optional[int], image: Optional[str], done: Optional[dict], *, lang: str) -> tuple:
        """Back: select the previous step and show its views."""
        return self.go(max(step_id(current) - 1, STEPS[0].id), image, done, lang)

    @endpoint(trims_memory=True)
    def selected(self, image: Optional[str], done: Optional[dict], evt: gr.SelectData, *, lang: str) -> tuple:
        """A step's title was clicked."""
        index = evt.index if isinstance(evt.index, int) and 0 <= evt.index < len(STEPS) else 0
        step = STEPS[index].id
        return (step, *self.show(step, image, done, lang))

    @endpoint(trims_memory=True)
    def photo_changed(self, current: Optional[int], image: Optional[str], *, lang: str) -> tuple:
        """A new photo on the page: the step on screen is recomputed for it, the others when they are shown."""
        return self.show(step_id(current), image, {}, lang)

    @endpoint()
    def open_units(self, unit: Optional[tuple], *, lang: str) -> tuple:
        """The last step's button: the Units tab, opened on the unit this step chose (when there is one)."""
        if not unit:
            return gr.skip(), gr.skip(), gr.skip(), gr.Tabs(selected=UNITS_TAB)
        module, branch, channel = unit
        return module, branch, channel, gr.Tabs(selected=UNITS_TAB)

    # --- layout ----------------------------------------------------------------------------------------------

    def build(self, page: Page, units: Optional[UnitsTab] = None) -> None:
        """The tab; ``units``: the Units tab, which the last step opens on a unit (without it, no button)."""
        views: dict[str, Any] = {}
        moves: list[tuple[gr.Button, Any]] = []
        with gr.Tab(label("lesson.tab"), id="lesson"):
            gr.Markdown(label("lesson.intro"))
            current = gr.State(STEPS[0].id)
            done = gr.State({})
            with gr.Walkthrough(selected=STEPS[0].id, elem_id="lesson") as walkthrough:
                for step in STEPS:
                    with gr.Step(label(step.title), id=step.id, elem_id=f"lesson-step-{step.name}"):
                        gr.Markdown(label(step.text), elem_id=f"lesson-text-{step.name}")
                        self.build_views(step.name, page, views)
                        with gr.Row():
                            if step is not STEPS[0]:
                                moves.append((gr.Button(label("lesson.back"), size="sm",
                                                        elem_id=f"lesson-back-{step.name}"), self.back))
                            if step is not STEPS[-1]:
                                moves.append((gr.Button(label("lesson.next"), variant="primary", size="sm",
                                                        elem_id=f"lesson-next-{step.name}"), self.next))
        page.share("step", "lesson", current, [step.id for step in STEPS], writes=(walkthrough, current))
        outputs = [*(views[view] for view in _VIEWS), done]
        for button, move in moves:
            wire(button.click, move, [current, page.image, done], [walkthrough, current, *outputs])
        wire(walkthrough.select, self.selected, [page.image, done], [current, *outputs])
        wire(page.photo_changed, self.photo_changed, [current, page.image], outputs)
        if page.tabs is not None and units is not None and units.inputs is not None:
            opened = wire(views["units"].click, self.open_units, views["unit"], [*units.inputs, page.tabs])
            units.wire_show(opened)
        else:
            views["units"].visible = False

    def build_views(self, name: str, page: Page, views: dict[str, Any]) -> None:
        if name == "photo":
            gr.Examples(examples=page.services.examples, inputs=page.image, label=label("common.examples"),
                        cache_examples=False, examples_per_page=8, elem_id="lesson-examples")
            views["photo"] = gr.Image(label=label("common.image"), type="filepath", interactive=False, height=200,
                                      elem_id="lesson-photo")
        elif name == "top5":
            views["top5"] = gr.Label(num_top_classes=5, label=label("classify.top5"), elem_id="lesson-top5")
        elif name == "crop":
            views["crop"] = gr.Image(label=label("classify.crop"), type="pil", interactive=False, height=224,
                                     elem_id="lesson-crop")
        elif name == "modules":
            views["modules"] = gr.Image(label=label("branches.overview"), type="pil", interactive=False,
                                        elem_id="lesson-modules")
        elif name == "attribution":
            views["attr_figure"] = gr.Image(label=label("attributions.result"), type="pil", format="png",
                                            interactive=False, elem_id="lesson-attribution")
            views["attr_summary"] = gr.Markdown(elem_id="lesson-attribution-summary")
        elif name == "aux":
            views["aux_charts"] = gr.Image(label=label("aux.charts"), type="pil", interactive=False,
                                           elem_id="lesson-aux")
            views["aux_summary"] = gr.Markdown(elem_id="lesson-aux-summary")
        elif name == "unit":
            views["unit_text"] = gr.Markdown(elem_id="lesson-unit")
            views["unit"] = gr.State(None)
            views["units"] = gr.Button(label("lesson.open_units"), variant="primary", elem_id="lesson-open-units")


def _step_named(name: str) -> int:
    return next(step.id for step in STEPS if step.name == name)
