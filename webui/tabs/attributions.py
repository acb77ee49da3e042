"""The Attributions tab and ``/attribute``, ``/compare_attributions``, ``/sanity_check``, ``/attribute_branches``.

Every run goes through ``googlenet.attributions.Attributor``: private replicas of the model, a declared cost shown
before running, a time budget, progress counted from the images that really go through the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import gradio as gr
from PIL import Image

from googlenet import INCEPTION_MODULES
from googlenet import attributions as attr_lib
from googlenet.attributions import AttributionError, AttributionResult
from googlenet.labels import CATEGORIES, category_index
from googlenet.messages import KeyedError, Message
from googlenet.model import module_display_name
from googlenet.render import attributions as attr_render
from googlenet.render.attributions import FigureText

from ..components import Number, Slider
from ..endpoint import endpoint, wire
from ..i18n import label, tr
from ..page import Page, require_image
from ..services import Services
from .classify import classify_on_device

__all__ = ["AttributionsTab", "BranchView", "TOP1", "FAITHFULNESS_STEPS"]

TOP1 = "top1"  # the target dropdown's "top-1 class" choice
FAITHFULNESS_STEPS = 10  # deletion/insertion curves: 11 points each (0 %, 10 %, ... 100 % of the pixels)


@dataclass
class BranchView:
    """Per-user state of the branch view: the last result, so another module's maps need no recomputation."""

    result: attr_lib.BranchAttribution
    crop: Image.Image


def method_name(method: str, lang: str) -> str:
    return tr(f"attributions.method.{method}", lang)


def _caption(result: AttributionResult, lang: str) -> str:
    f = result.faithfulness
    if f is None:
        return ""
    return tr("attributions.caption", lang, score=f.score, ins=f.insertion_auc, dele=f.deletion_auc)


def _with_notes(text: str, notes: list[Message], lang: str) -> str:
    return text + "".join(f"\n\n⚠️ {note.text(lang)}" for note in notes)


def _payload(result: Any, lang: str) -> dict:
    """A result's JSON with the class name, and its notes in the reader's language."""
    payload = result.to_json()
    payload["target_name"] = CATEGORIES[result.target]
    payload["notes"] = [note.text(lang) for note in result.notes]
    return payload


def _progress(progress: gr.Progress, what: str, lang: str, start: float = 0.0,
              span: float = 1.0) -> attr_lib.ProgressCallback:
    """Forward the attributor's own step counts to the page's progress bar, labelled in the user's language."""
    desc = tr("attributions.progress", lang, what=what)

    def report(fraction: float, _desc: str) -> None:
        progress(start + fraction * span, desc=desc)

    return report


class AttributionsTab:
    def __init__(self, services: Services) -> None:
        self.services = services

    # --- shared steps ----------------------------------------------------------------------------------------

    def settings_for(self, method: str, preset: str, layer: str, baseline: str, steps: Optional[float],
                     window: Optional[float], stride: Optional[float]) -> attr_lib.AttributionSettings:
        """The page's controls as settings, in the batch size the app uses on its device."""
        return attr_lib.AttributionSettings(
            method=method, preset=preset, layer=layer or "inception4e", baseline=baseline or "black",
            steps=int(steps) if steps else None, window=int(window) if window else None,
            stride=int(stride) if stride else None,
            internal_batch_size=attr_lib.batch_size_for(self.services.engine.device),
        )

    @staticmethod
    def target_index(target: Optional[str | int]) -> Optional[int]:
        """"top1"/empty -> None (the top-1 class); otherwise an index, "281", "281: tabby" or "tabby"."""
        if target is None or str(target).strip() in ("", TOP1):
            return None
        return category_index(target if isinstance(target, int) else str(target))

    def prepare(self, image: Optional[str]) -> tuple[Image.Image, Any]:
        """(crop, 1 x 3 x 224 x 224 input) of the shared photo."""
        return self.services.engine.prepare(require_image(image))

    # --- events ----------------------------------------------------------------------------------------------

    @endpoint()
    def cost(self, image: Optional[str], method: str, preset: str, layer: str, baseline: str, steps: float,
             window: float, stride: float, budget: float, *, lang: str) -> str:
        """The declared cost (and time estimate) of the chosen settings, shown before running."""
        try:
            settings = self.settings_for(method, preset, layer, baseline, steps, window, stride)
            attributor = self.services.attributor
            attributor.throughput()  # measured once per process, so the estimate below has seconds
            plan = attributor.fit_to_budget(settings, budget or None,
                                            extra=attr_lib.faithfulness_cost(FAITHFULNESS_STEPS))
        except AttributionError as exc:  # BudgetExceeded included: shown where the cost would be
            return f"⚠️ {exc.text(lang)}"
        method_cost = attr_lib.declared_cost(plan.settings)  # plan.cost also counts the faithfulness passes
        text = tr("attributions.cost_text", lang, fwd=method_cost.forward, bwd=method_cost.backward,
                  faith=2 * (FAITHFULNESS_STEPS + 1), seconds=plan.seconds)
        return _with_notes(text, [plan.note] if plan.note else [], lang)

    @endpoint(heavy=True)
    def attribute(self, image: Optional[str], method: str = "integrated_gradients", target: Optional[str] = TOP1,
                  preset: str = "fast", layer: str = "inception4e", display: str = "signed", baseline: str = "black",
                  budget: float = 30, steps: float = 0, window: float = 0, stride: float = 0, *, lang: str,
                  progress: gr.Progress = gr.Progress()) -> tuple[Any, str, dict]:
        """One attribution map of the photo for a target class (``top1`` or any of the 1,000: an index, a name or
        "281: tabby"), by one of eight methods (Integrated Gradients, Saliency, SmoothGrad, GradientSHAP,
        Occlusion, Guided Backprop, Guided GradCAM, Layer GradCAM on ``layer``), with its deletion/insertion
        faithfulness curves. ``preset`` sets the cost, ``budget`` (seconds) scales it down, ``steps``/``window``/
        ``stride`` override the preset. Returns the figure, a summary and the numbers as JSON."""
        crop, x = self.prepare(image)
        absolute = display == "absolute"
        what = method_name(method, lang) if method in attr_lib.METHODS else method
        result = self.services.attributor.attribute(
            x, self.settings_for(method, preset, layer, baseline, steps, window, stride), self.target_index(target),
            budget_s=budget or None, faithfulness_steps=FAITHFULNESS_STEPS, absolute_ranking=absolute,
            progress=_progress(progress, what, lang))
        name = method_name(result.settings.method, lang)
        if result.settings.method in attr_lib.LAYER_METHODS:
            name += f" · {module_display_name(result.settings.layer)}"
        title = f"{name} → {result.target}: {CATEGORIES[result.target]}"
        figure = attr_render.render_attribution(crop, result.map, absolute=absolute, title=title,
                                                caption=_caption(result, lang), faithfulness=result.faithfulness,
                                                text=FigureText.load(lang))
        summary = tr("attributions.summary", lang, method=name, index=result.target, name=CATEGORIES[result.target],
                     fwd=result.cost.forward, bwd=result.cost.backward, seconds=result.elapsed_s)
        if result.faithfulness is not None:
            summary += "\n\n" + _caption(result, lang)
        if result.convergence_delta is not None:
            summary += "\n\n" + tr("attributions.delta", lang, delta=result.convergence_delta,
                                    total=float(result.map.sum()),
                                    diff=result.target_logit - result.baseline_logit)
        return figure, _with_notes(summary, result.notes, lang), _payload(result, lang)

    @endpoint(heavy=True)
    def compare(self, image: Optional[str], methods: list[str], target: Optional[str] = TOP1, preset: str = "fast",
                layer: str = "inception4e", display: str = "signed", scale: str = "per_map", budget: float = 30, *,
                lang: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, dict]:
        """Several methods side by side on the same target class, each with its faithfulness score; ``scale``:
        one colour scale per map or one shared by all (stated on the figure)."""
        if not methods:
            raise AttributionError("attributions.no_methods")
        crop, x = self.prepare(image)
        absolute = display == "absolute"
        wanted = self.target_index(target)
        panels, results = [], {}
        for k, method in enumerate(methods):
            what = f"{method_name(method, lang) if method in attr_lib.METHODS else method} ({k + 1}/{len(methods)})"
            result = self.services.attributor.attribute(
                x, self.settings_for(method, preset, layer, "black", None, None, None), wanted,
                budget_s=budget or None, faithfulness_steps=FAITHFULNESS_STEPS, absolute_ranking=absolute,
                progress=_progress(progress, what, lang, start=k / len(methods), span=1 / len(methods)))
            wanted = result.target  # every panel explains the same class
            name = method_name(method, lang)
            if method in attr_lib.LAYER_METHODS:
                name += f" · {module_display_name(result.settings.layer)}"
            panels.append(attr_render.MapPanel(name, result.map, _caption(result, lang)))
            results[method] = _payload(result, lang)
        figure = attr_render.render_comparison(crop, panels, absolute=absolute, shared_scale=scale == "shared",
                                               title=f"{wanted}: {CATEGORIES[wanted]}", text=FigureText.load(lang))
        return figure, {"target": wanted, "target_name": CATEGORIES[wanted], "scale": scale, "methods": results}

    @endpoint(heavy=True)
    def sanity_check(self, image: Optional[str], method: str = "integrated_gradients", target: Optional[str] = TOP1,
                     preset: str = "fast", layer: str = "inception4e", mode: str = "cascading", budget: float = 30,
                     *, lang: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, str, dict]:
        """The model-randomisation sanity check (Adebayo et al. 2018) of one method: the weights of a private copy
        are randomised block by block (``mode`` cascading: from the top down, independent: one at a time) and the
        map recomputed; the Spearman correlation with the original map says whether the map depends on what the
        network learned."""
        crop, x = self.prepare(image)
        result = self.services.attributor.sanity_check(
            x, self.settings_for(method, preset, layer, "black", None, None, None), self.target_index(target),
            mode=mode, budget_s=budget or None, progress=_progress(progress, tr("attributions.sanity", lang), lang))
        text = FigureText.load(lang)
        figure = attr_render.render_sanity(
            crop, result.original, [s.block for s in result.steps], [s.map for s in result.steps],
            [s.spearman_abs for s in result.steps], [s.spearman_signed for s in result.steps],
            method=method_name(method, lang), mode=tr(f"attributions.sanity_mode.{mode}", lang), text=text)
        # cascading: the last step has every block randomised; independent: report the block that changed it most
        step = result.steps[-1] if mode == "cascading" else min(result.steps, key=lambda st: st.spearman_abs)
        summary = tr(f"attributions.sanity_summary.{mode}", lang, rho=step.spearman_abs, block=step.block,
                     fwd=result.cost.forward, bwd=result.cost.backward, seconds=result.elapsed_s)
        return figure, _with_notes(summary, result.notes, lang), _payload(result, lang)

    def branch_maps_figure(self, view: Optional[BranchView], module: str, display: str, lang: str) -> Any:
        if view is None:
            return None
        i = view.result.modules.index(module)
        return attr_render.render_branch_maps(view.crop, view.result.maps[module], view.result.values[i], module,
                                              view.result.branches, absolute=display == "absolute",
                                              text=FigureText.load(lang))

    @endpoint(heavy=True)
    def attribute_branches(self, image: Optional[str], target: Optional[str] = TOP1,
                           branch_method: str = "grad_x_activation", preset: str = "fast",
                           module: str = "inception4c", display: str = "signed", *, lang: str,
                           progress: gr.Progress = gr.Progress()) -> tuple[Any, Any, dict, Optional[BranchView]]:
        """How much each of the four branches of each of the nine Inception modules contributed to the target
        class (``branch_method``: gradient x activation, one pass; or layer Integrated Gradients per module): the
        module x branch matrix, the four branch maps of ``module``, and the numbers as JSON."""
        crop, x = self.prepare(image)
        result = self.services.attributor.branch_attribution(
            x, self.target_index(target), method=branch_method, preset=preset,
            internal_batch_size=attr_lib.batch_size_for(x.device),
            progress=_progress(progress, tr("attributions.branches", lang), lang))
        title = tr("attributions.fig.branch_title", lang, target=f"{result.target}: {CATEGORIES[result.target]}",
                   method=tr(f"attributions.branch_method.{branch_method}", lang))
        matrix = attr_render.render_branch_matrix(result.values, result.modules, result.branches,
                                                  share=result.share(), title=title, text=FigureText.load(lang))
        view = BranchView(result, crop)
        return matrix, self.branch_maps_figure(view, module, display, lang), _payload(result, lang), view

    @endpoint()
    def show_branch_maps(self, view: Optional[BranchView], module: str, display: str, *, lang: str) -> Any:
        """Another module's branch maps from the stored result (no recomputation)."""
        return self.branch_maps_figure(view, module, display, lang)

    @endpoint()
    def top5_choices(self, image: Optional[str], *, lang: str) -> Any:
        """Fill the one-click top-5 target buttons for a new photo."""
        if not image:
            return gr.update(choices=[], value=None)
        try:
            result = classify_on_device(self.services.key, image)
        except KeyedError:  # the Classify tab already says what is wrong with the photo
            return gr.update(choices=[], value=None)
        choices = [(f"{s.name} ({s.probability:.0%})", f"{s.index}: {s.name}") for s in result.top]
        return gr.update(choices=choices, value=None)

    @endpoint()
    def pick_target(self, choice: Optional[str], *, lang: str) -> str:
        """A top-5 button was clicked: it becomes the target."""
        return choice or TOP1

    # --- layout ----------------------------------------------------------------------------------------------

    def build(self, page: Page) -> None:
        methods = [(label(f"attributions.method.{m}"), m) for m in attr_lib.METHODS]
        presets = [(label(f"attributions.preset.{p}"), p) for p in attr_lib.PRESETS]
        modules = [(module_display_name(m), m) for m in INCEPTION_MODULES]
        displays = [(label("attributions.display.signed"), "signed"),
                    (label("attributions.display.absolute"), "absolute")]
        targets = [(label("attributions.target_top1"), TOP1)] + [f"{i}: {n}" for i, n in enumerate(CATEGORIES)]
        with gr.Tab(label("attributions.tab"), id="attributions") as tab:
            gr.Markdown(label("attributions.intro"))
            with gr.Row():
                with gr.Column(scale=1):
                    method = gr.Dropdown(methods, value="integrated_gradients", label=label("attributions.method"),
                                         elem_id="attr-method")
                    layer = gr.Dropdown(modules, value="inception4e", label=label("attributions.layer"),
                                        info=label("attributions.layer_info"), elem_id="attr-layer")
                    preset = gr.Radio(presets, value="fast", label=label("attributions.preset"),
                                      elem_id="attr-preset")
                    # custom values: API callers (and users) may also give "281", "tabby" or "281: tabby"
                    target = gr.Dropdown(targets, value=TOP1, filterable=True, allow_custom_value=True,
                                         label=label("attributions.target"), info=label("attributions.target_info"),
                                         elem_id="attr-target")
                    top5 = gr.Radio([], label=label("attributions.top5"), elem_id="attr-top5")
                    display = gr.Radio(displays, value="signed", label=label("attributions.display"),
                                       elem_id="attr-display")
                    with gr.Accordion(label("attributions.advanced"), open=False):
                        baseline = gr.Radio([(label(f"attributions.baseline.{b}"), b) for b in attr_lib.BASELINES],
                                            value="black", label=label("attributions.baseline"))
                        budget = Slider(5, 120, value=30, step=5, label=label("attributions.budget"),
                                           info=label("attributions.budget_info"))
                        steps = Number(0, precision=0, minimum=0, maximum=256, label=label("attributions.steps"),
                                          info=label("attributions.steps_info"))
                        window = Number(0, precision=0, minimum=0, maximum=224,
                                           label=label("attributions.window"))
                        stride = Number(0, precision=0, minimum=0, maximum=112,
                                           label=label("attributions.stride"))
                    cost = gr.Markdown(elem_id="attr-cost")
                    run = gr.Button(label("attributions.run"), variant="primary", elem_id="attr-run")
                with gr.Column(scale=2):
                    figure = gr.Image(label=label("attributions.result"), type="pil", format="png",
                                      interactive=False, show_label=False, elem_id="attr-figure")
                    page.attribution_figure = figure
                    summary = gr.Markdown(elem_id="attr-summary")
                    with gr.Accordion(label("attributions.raw"), open=False):
                        raw = gr.JSON(elem_id="attr-json")
            with gr.Accordion(label("attributions.compare"), open=False):
                with gr.Row():
                    compare_methods = gr.CheckboxGroup(methods, value=["integrated_gradients", "saliency",
                                                                       "layer_gradcam"],
                                                       label=label("attributions.compare_methods"))
                    scale = gr.Radio([(label("attributions.scale.per_map"), "per_map"),
                                      (label("attributions.scale.shared"), "shared")], value="per_map",
                                     label=label("attributions.scale"), info=label("attributions.scale_info"))
                compare_run = gr.Button(label("attributions.compare_run"), elem_id="attr-compare-run")
                compare_figure = gr.Image(type="pil", format="png", interactive=False, show_label=False,
                                          label=label("attributions.compare"))
                compare_raw = gr.JSON(label=label("attributions.raw"))
            with gr.Accordion(label("attributions.sanity"), open=False):
                gr.Markdown(label("attributions.sanity_help"))
                mode = gr.Radio([(label(f"attributions.sanity_mode.{m}"), m) for m in attr_lib.SANITY_MODES],
                                value="cascading", label=label("attributions.sanity_mode"))
                sanity_run = gr.Button(label("attributions.sanity_run"), elem_id="attr-sanity-run")
                sanity_figure = gr.Image(type="pil", format="png", interactive=False, show_label=False,
                                         label=label("attributions.sanity"))
                sanity_summary = gr.Markdown()
                sanity_raw = gr.JSON(label=label("attributions.raw"))
            with gr.Accordion(label("attributions.branches"), open=False):
                gr.Markdown(label("attributions.branch_help"))
                with gr.Row():
                    branch_method = gr.Radio([(label(f"attributions.branch_method.{m}"), m)
                                              for m in attr_lib.BRANCH_METHODS],
                                             value="grad_x_activation", label=label("attributions.branch_method"))
                    branch_module = gr.Dropdown(modules, value="inception4c",
                                                label=label("attributions.branch_module"))
                branch_run = gr.Button(label("attributions.branch_run"), elem_id="attr-branch-run")
                with gr.Row():
                    branch_matrix = gr.Image(type="pil", format="png", interactive=False, show_label=False,
                                             label=label("attributions.branch_matrix"))
                    branch_maps = gr.Image(type="pil", format="png", interactive=False, show_label=False,
                                           label=label("attributions.branch_maps"))
                branch_raw = gr.JSON(label=label("attributions.raw"))
                branch_state = gr.State(None)
            gr.Markdown(label("attributions.explain"))

        cost_inputs = [page.image, method, preset, layer, baseline, steps, window, stride, budget]
        for component in (method, preset, layer, baseline, steps, window, stride, budget):
            wire(component.change, self.cost, cost_inputs, cost)
        wire(page.image.change, self.top5_choices, page.image, top5)
        wire(page.image.change, self.cost, cost_inputs, cost)
        wire(tab.select, self.cost, cost_inputs, cost)
        wire(top5.select, self.pick_target, top5, target)
        wire(run.click, self.attribute, [page.image, method, target, preset, layer, display, baseline, budget, steps,
                                         window, stride], [figure, summary, raw], api_name="attribute")
        wire(compare_run.click, self.compare, [page.image, compare_methods, target, preset, layer, display, scale,
                                               budget], [compare_figure, compare_raw], api_name="compare_attributions")
        wire(sanity_run.click, self.sanity_check, [page.image, method, target, preset, layer, mode, budget],
             [sanity_figure, sanity_summary, sanity_raw], api_name="sanity_check")
        wire(branch_run.click, self.attribute_branches, [page.image, target, branch_method, preset, branch_module,
                                                         display], [branch_matrix, branch_maps, branch_raw,
                                                                    branch_state], api_name="attribute_branches")
        wire(branch_module.change, self.show_branch_maps, [branch_state, branch_module, display], branch_maps)
