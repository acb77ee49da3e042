"""The Units tab, ``/feature_visualization`` and ``/class_visualization``: what a unit looks for.

A unit is one channel of one branch of one Inception module, named as ``/branches`` names its ``top_channels``
(module, branch, index within the branch). Its feature visualization is an image optimized to excite it
(``googlenet.features``), streamed: a preview at once, sharper ones while it optimizes, then the final image. The
same machinery answers "what does *tabby* look like to GoogLeNet" with the class logit as the objective. Finished
images come from the disk cache when they are there (also after a restart, and from a folder made by
``render-features``), without running the network.

Other panels (dataset examples) are built below the unit pickers with ``build_below(page, inputs)``: the pickers
are :attr:`UnitsTab.inputs` once the tab is built.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator, NamedTuple, Optional, Union

import gradio as gr

from googlenet import BRANCHES, INCEPTION_MODULES
from googlenet.branch_facts import receptive_fields
from googlenet.features import (DEFAULT_SIZE, DEFAULT_STEPS, OBJECTIVES, FeatureSettings, Preview, Target,
                                Visualization, class_target, weights_id)
from googlenet.features.settings import SEED_MAX, SIZE_RANGE, STEPS_RANGE
from googlenet.labels import category_index
from googlenet.model import Inception, branch_display_name, module_display_name
from googlenet.units import UnitError, UnitLocation, channel_index, locate
from googlenet.weights import WeightsKind

from ..components import Number, Slider, class_picker
from ..endpoint import endpoint, wire
from ..i18n import label, tr
from ..page import Page, cpu_note
from ..services import Services
from .unit_examples import UnitExamplesPanel
from .units_work import visualize_on_device

__all__ = ["UnitsTab", "UnitInputs", "OBJECTIVE_LABELS", "DEFAULT_CLASS"]

log = logging.getLogger(__name__)

#: The objectives' labels (literal keys: the locale test reads them from the code).
OBJECTIVE_LABELS: dict[str, str] = {"channel": "units.objective_channel", "neuron": "units.objective_neuron",
                                    "diversity": "units.objective_diversity"}
WEIGHTS_NOTES: dict[WeightsKind, str] = {WeightsKind.OFFICIAL: "units.weights_official",
                                         WeightsKind.CUSTOM: "units.weights_custom",
                                         WeightsKind.UNTRAINED: "units.weights_untrained"}
DEFAULT_CLASS = "281: tabby"
SIZE_STEP = 16


class UnitInputs(NamedTuple):
    """The unit pickers of the tab, for panels built below them (``build_below(page, inputs)``)."""

    module: gr.Dropdown
    branch: gr.Dropdown
    channel: gr.Number


class UnitsTab:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.inputs: Optional[UnitInputs] = None
        self.facts_outputs: list = []
        self.visualize: tuple[list, list] = ([], [])  # the visualization's inputs and outputs, once built
        self._fields = receptive_fields(services.engine.reference)

    # --- the library, through the cache and the device -----------------------------------------------------------

    def locate(self, module: str, branch: str, channel: Any) -> UnitLocation:
        model = self.services.engine.reference
        if module not in INCEPTION_MODULES:
            raise UnitError("errors.unknown_module", value=module, choices=", ".join(INCEPTION_MODULES))
        if branch not in BRANCHES:
            raise UnitError("errors.unknown_branch", value=branch, choices=", ".join(BRANCHES))
        return locate(model, module, branch, channel_index(channel, module, branch))

    def frames(self, target: Target, settings: FeatureSettings, lang: str,
               progress: Callable[..., Any]) -> Iterator[tuple[Union[Preview, Visualization], bool, str]]:
        """(frame, from the cache, CPU note) for each preview and then the visualization."""
        cache, wid = self.services.features, weights_id(self.services.engine)
        hit = cache.get(wid, target, settings)
        if hit is not None:
            log.info("feature visualization of %s from the cache", target.key)
            yield hit, True, ""
            return
        note = ""
        for ran in self.services.stream_on_device(visualize_on_device, target, settings):
            frame = ran.value
            if ran.on_cpu is not None and not note:
                note = cpu_note(ran, lang)
            if isinstance(frame, Preview):
                progress((frame.step, frame.steps), desc=tr("units.progress", lang), unit="steps")
            else:
                cache.put(wid, frame)
            yield frame, False, note

    def stream(self, target: Target, settings: FeatureSettings, about: dict, lang: str,
               progress: Callable[..., Any]) -> Iterator[tuple[list, dict]]:
        weights = self.services.engine.weights
        for frame, cached, note in self.frames(target, settings, lang, progress):
            if isinstance(frame, Preview):
                yield list(frame.images), {**about, "preview": True, "step": frame.step, "steps": frame.steps,
                                           "objective": round(frame.objective, 6)}
                continue
            extra = {"note": note.strip("\n ⚠️")} if note else {}
            yield list(frame.images), {**about, **frame.to_json(), "preview": False, "cached": cached,
                                       "weights": weights.description, "weights_kind": weights.kind.value, **extra}

    # --- public endpoints ----------------------------------------------------------------------------------------

    @endpoint(heavy=True)
    def feature_visualization(self, module: str = "inception4a", branch: str = "branch1", channel: float = 0,
                              objective: str = "channel", steps: float = DEFAULT_STEPS, size: float = DEFAULT_SIZE,
                              seed: float = 0, *, lang: str,
                              progress: gr.Progress = gr.Progress()) -> Iterator[tuple]:
        """An image optimized to excite one channel of one branch of an Inception module (feature visualization).

        It is an optimized image, not a photo: one of many stimuli the unit responds to. Previews stream while it
        optimizes; the same seed gives the same image; a finished image is served from the disk cache.

        Args:
            module: The Inception module: inception3a, 3b, 4a, 4b, 4c, 4d, 4e, 5a or 5b.
            branch: The branch: branch1 (1x1), branch2 (3x3), branch3 ("5x5", 3x3 in this checkpoint) or branch4 (pool).
            channel: The channel's index within the branch, as in /branches top_channels (index).
            objective: channel (mean over positions), neuron (the centre position) or diversity (four images).
            steps: Optimization steps, 1 to 2048.
            size: Image size in pixels, 64 to 512.
            seed: Random seed, 0 to 2147483647.
        Returns:
            The raw image(s) as files (one, or four for diversity; nothing drawn on them), and JSON with the \
            unit, the unit's activation on the starting image and on the result, and the objective per step.
        """
        location = self.locate(module, branch, channel)
        settings = FeatureSettings.checked(objective, steps, size, seed)
        about = {"unit": {"module": module, "branch": branch, "channel": location.unit.channel,
                          "module_channel": location.module_channel, "branch_channels": location.branch_channels,
                          "module_channels": location.module_channels}}
        yield from self.stream(location.unit, settings, about, lang, progress)

    @endpoint(heavy=True)
    def class_visualization(self, target: str = DEFAULT_CLASS, steps: float = DEFAULT_STEPS,
                            size: float = DEFAULT_SIZE, seed: float = 0, *, lang: str,
                            progress: gr.Progress = gr.Progress()) -> Iterator[tuple]:
        """An image optimized to raise one ImageNet class's logit: what that class looks like to GoogLeNet.

        Args:
            target: The class: an index (281), a name (tabby) or both (281: tabby).
            steps: Optimization steps, 1 to 2048.
            size: Image size in pixels, 64 to 512.
            seed: Random seed, 0 to 2147483647.
        Returns:
            The raw image as a file (nothing drawn on it), and JSON with the class, its logit on the starting \
            image and on the result, and the objective (the logit) per step.
        """
        chosen = class_target(target)
        settings = FeatureSettings.checked("logit", steps, size, seed, for_class=True)
        about = {"class": {"index": chosen.index, "name": chosen.name}}
        yield from self.stream(chosen, settings, about, lang, progress)

    # --- private events ------------------------------------------------------------------------------------------

    @endpoint()
    def facts(self, module: str, branch: str, channel: float, *, lang: str) -> tuple:
        """The unit's facts (Markdown) and the channel box's range for this branch."""
        try:
            location = self.locate(module, branch, channel)
        except UnitError as exc:
            if exc.key != "errors.channel_range":
                raise
            location = self.locate(module, branch, 0)
            return self.facts_markdown(location, lang, exc.message.text(lang)), gr.update(
                maximum=location.branch_channels - 1)
        return self.facts_markdown(location, lang), gr.update(maximum=location.branch_channels - 1)

    def facts_markdown(self, location: UnitLocation, lang: str, problem: str = "") -> str:
        unit = location.unit
        lines = [tr("units.facts", lang, module=module_display_name(unit.module), module_key=unit.module,
                    branch=branch_display_name(unit.branch, lang), branch_key=unit.branch, channel=unit.channel,
                    last=location.branch_channels - 1, module_channel=location.module_channel,
                    module_channels=location.module_channels, offset=location.offset,
                    rf=self._fields[f"{unit.module}.{unit.branch}"].size)]
        if unit.branch == "branch3":
            lines.append(tr("units.facts_kernel", lang, k=Inception.BRANCH3_KERNEL_SIZE))
        lines.append(tr(WEIGHTS_NOTES[self.services.engine.weights.kind], lang))
        if problem:
            lines.append(f"⚠️ {problem}")
        return "\n\n".join(lines)

    @endpoint()
    def pick(self, evt: gr.SelectData, *, lang: str) -> tuple:
        """A click on a row of the branches tab's most active channels: that unit, and this tab opened."""
        row = list(evt.row_value or [])
        if len(row) < 3 or row[0] not in INCEPTION_MODULES or row[1] not in BRANCHES:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return row[0], row[1], int(float(row[2])), gr.Tabs(selected="units")

    # --- layout --------------------------------------------------------------------------------------------------

    def build(self, page: Page) -> UnitInputs:
        modules = [(module_display_name(m), m) for m in INCEPTION_MODULES]
        objectives = [(label(OBJECTIVE_LABELS[o]), o) for o in OBJECTIVES]
        with gr.Tab(label("units.tab"), id="units"):
            gr.Markdown(label("units.intro"))
            with gr.Row():
                # custom values allowed: the handler checks them (Gradio's own check would answer in English only)
                module = gr.Dropdown(modules, value="inception4a", allow_custom_value=True,
                                     label=label("units.module"), elem_id="un-module")
                branch = gr.Dropdown(list(BRANCHES), value="branch1", allow_custom_value=True,
                                     label=label("units.branch"), elem_id="un-branch")
                channel = Number(value=0, minimum=0, maximum=191, precision=0, label=label("units.channel"),
                                 elem_id="un-channel")
            with gr.Row():
                objective = gr.Radio(objectives, value="channel", label=label("units.objective"),
                                     elem_id="un-objective")
                steps = Slider(STEPS_RANGE[0], 512, value=DEFAULT_STEPS, step=1, label=label("units.steps"),
                               elem_id="un-steps")
                size = Slider(SIZE_RANGE[0], 256, value=DEFAULT_SIZE, step=SIZE_STEP, label=label("units.size"),
                              elem_id="un-size")
                seed = Number(value=0, minimum=0, maximum=SEED_MAX, precision=0, label=label("units.seed"),
                              elem_id="un-seed")
            run = gr.Button(label("units.run"), variant="primary", elem_id="un-run")
            images = gr.Gallery(label=label("units.images"), columns=4, height=300, format="png",
                                interactive=False, elem_id="un-images")
            with gr.Accordion(label("units.facts_title"), open=True):
                facts = gr.Markdown(elem_id="un-facts")
            with gr.Accordion(label("units.raw"), open=False):
                raw = gr.JSON(elem_id="un-json")
            with gr.Accordion(label("units.explain_title"), open=False):
                gr.Markdown(label("units.explain"))
            self.inputs = UnitInputs(module, branch, channel)
            self.build_below(page, self.inputs)
            gr.Markdown(label("units.class_intro"))
            with gr.Row():
                target = class_picker(page, str(category_index(DEFAULT_CLASS)), label=label("units.class"),
                                      elem_id="un-class")
                class_run = gr.Button(label("units.class_run"), elem_id="un-class-run")
            class_images = gr.Gallery(label=label("units.class_images"), columns=1, height=300, format="png",
                                      interactive=False, elem_id="un-class-images")
            with gr.Accordion(label("units.raw"), open=False):
                class_raw = gr.JSON(elem_id="un-class-json")
        unit = [module, branch, channel]
        settings = [objective, steps, size, seed]
        wire(run.click, self.feature_visualization, [*unit, *settings], [images, raw],
             api_name="feature_visualization")
        wire(class_run.click, self.class_visualization, [target, steps, size, seed], [class_images, class_raw],
             api_name="class_visualization")
        for control in (module, branch):
            wire(control.change, self.facts, unit, [facts, channel])
        wire(channel.change, self.facts, unit, [facts, channel])
        self.facts_outputs = [facts, channel]  # filled when the page loads (layout.py), in the reader's language
        self.visualize = ([*unit, *settings], [images, raw])
        if page.branch_top_channels is not None and page.tabs is not None:
            picked = wire(page.branch_top_channels.select, self.pick, None, [module, branch, channel, page.tabs])
            self.wire_show(picked)
        return self.inputs

    def wire_show(self, dependency: Any) -> None:
        """After ``dependency`` (an event that set the unit pickers, e.g. from another tab) draw that unit."""
        inputs, outputs = self.visualize
        wire(dependency.then, self.feature_visualization, inputs, outputs)

    def build_below(self, page: Page, inputs: UnitInputs) -> None:
        """Panels shown under the unit's visualization that read the same pickers: its dataset examples."""
        UnitExamplesPanel(self.services).build(page, inputs.module, inputs.branch, inputs.channel)
