"""The Attributions tab and ``/attribute``, ``/compare_attributions``, ``/sanity_check``, ``/attribute_branches``.

Every run goes through ``googlenet.attributions.Attributor``: private replicas of the model, a declared cost shown
before running, a time budget, progress counted from the images that really go through the network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional

import gradio as gr
from PIL import Image

from googlenet import INCEPTION_MODULES
from googlenet import attributions as attr_lib
from googlenet.attributions import AttributionError, AttributionResult
from googlenet.labels import CATEGORIES, category_index, display_name
from googlenet.messages import KeyedError, Message
from googlenet.model import module_display_name
from googlenet.render import attributions as attr_render
from googlenet.render.attributions import FigureText

from ..components import Number, Slider, class_picker
from ..endpoint import endpoint, wire
from ..i18n import label, tr
from ..page import Page, cpu_note, require_image
from ..services import Services
from ..zerogpu import Ran
from .attribution_work import (FAITHFULNESS_STEPS, Attributed, AttributionJob, BranchJob, SanityJob,
                               attributions_on_device, branch_attribution_on_device,
                               sanity_on_device)
from .classify import classify_on_device

__all__ = ["AttributionsTab", "BranchView", "TOP1", "FAITHFULNESS_STEPS"]

TOP1 = "top1"  # the target dropdown's "top-1 class" choice


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

    def cpu_budget(self, budget_s: Optional[float]) -> float:
        """The budget the CPU keeps when it answers for the GPU: the caller's, or the limit's without one."""
        return budget_s if budget_s is not None else self.services.limits.cpu_fallback_s

    @staticmethod
    def target_index(target: Optional[str | int]) -> Optional[int]:
        """"top1"/empty -> None (the top-1 class); otherwise an index, "281", "281: tabby" or "tabby"."""
        if target is None or str(target).strip() in ("", TOP1):
            return None
        return category_index(target if isinstance(target, int) else str(target))

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

    def run_attributions(self, image: Optional[str], target: Optional[str], jobs: tuple[AttributionJob, ...],
                         progress: Optional[gr.Progress]) -> Ran[Attributed]:
        path, wanted = require_image(image), self.target_index(target)
        cpu_jobs = tuple(replace(job, budget_s=self.cpu_budget(job.budget_s)) for job in jobs)
        return self.services.on_device(attributions_on_device, path, wanted, jobs, progress,
                                       cpu_args=(path, wanted, cpu_jobs, progress))

    @endpoint(heavy=True)
    def attribute(self, image: Optional[str], method: str = "integrated_gradients", target: Optional[str] = TOP1,
                  preset: str = "fast", layer: str = "inception4e", display: str = "signed", baseline: str = "black",
                  budget: float = 30, steps: float = 0, window: float = 0, stride: float = 0, *, lang: str,
                  progress: gr.Progress = gr.Progress()) -> tuple[Any, str, dict]:
        """Which pixels of a photo made GoogLeNet predict a class: one attribution map (Captum) with its
        deletion/insertion faithfulness curves, which say how well the map ranks the pixels that matter.

        Args:
            image: The photo (JPEG, PNG, WebP, HEIC/HEIF, AVIF, BMP, TIFF, GIF or ICO).
            method: integrated_gradients, saliency, smoothgrad, gradient_shap, occlusion, guided_backprop, guided_gradcam or layer_gradcam.
            target: The class to explain: top1 (the prediction), an index 0-999, a name ("tabby") or "281: tabby".
            preset: Cost and detail of the method: fast, balanced or thorough.
            layer: The Inception module of layer_gradcam and guided_gradcam (inception3a ... inception5b).
            display: signed (positive and negative evidence) or absolute (magnitude; also ranks the curves by it).
            baseline: What "absent" means for integrated_gradients, gradient_shap and occlusion: black, mean or blur.
            budget: Seconds the run may take; larger settings are scaled down to fit (0: no budget).
            steps: Integrated-gradients steps or SmoothGrad/GradientSHAP samples instead of the preset's (0: preset).
            window: Occlusion window side in pixels instead of the preset's (0: preset).
            stride: Occlusion stride in pixels instead of the preset's (0: preset).
        Returns:
            The map over the 224x224 crop with its faithfulness curves (an image), a Markdown summary (cost, \
            time, faithfulness; for integrated gradients how far completeness holds) and the numbers as JSON.
        """
        return self.attribution_views(image, method, target, preset, layer, display, baseline, budget, steps, window,
                                      stride, lang, progress)

    def attribution_views(self, image: Optional[str], method: str, target: Optional[str], preset: str, layer: str,
                          display: str, baseline: str, budget: float, steps: float, window: float, stride: float,
                          lang: str, progress: Optional[gr.Progress] = None) -> tuple[Any, str, dict]:
        """What :meth:`attribute` shows (the figure, the summary, the JSON): also the lesson's attribution step."""
        what = method_name(method, lang) if method in attr_lib.METHODS else method
        job = AttributionJob(self.settings_for(method, preset, layer, baseline, steps, window, stride),
                             budget or None, display == "absolute", tr("attributions.progress", lang, what=what))
        ran = self.run_attributions(image, target, (job,), progress)
        crop, result, absolute = ran.value.crop, ran.value.results[0], job.absolute
        name = method_name(result.settings.method, lang)
        if result.settings.method in attr_lib.LAYER_METHODS:
            name += f" · {module_display_name(result.settings.layer)}"
        title = f"{name} → {result.target}: {display_name(result.target, lang)}"
        figure = attr_render.render_attribution(crop, result.map, absolute=absolute, title=title,
                                                caption=_caption(result, lang), faithfulness=result.faithfulness,
                                                text=FigureText.load(lang))
        summary = tr("attributions.summary", lang, method=name, index=result.target,
                     name=display_name(result.target, lang),
                     fwd=result.cost.forward, bwd=result.cost.backward, seconds=result.elapsed_s)
        if result.faithfulness is not None:
            summary += "\n\n" + _caption(result, lang)
        if result.convergence_delta is not None:
            summary += "\n\n" + tr("attributions.delta", lang, delta=result.convergence_delta,
                                    total=float(result.map.sum()),
                                    diff=result.target_logit - result.baseline_logit)
        return figure, _with_notes(summary, result.notes, lang) + cpu_note(ran, lang), _payload(result, lang)

    @endpoint(heavy=True)
    def compare_attributions(self, image: Optional[str], methods: list[str], target: Optional[str] = TOP1,
                             preset: str = "fast", layer: str = "inception4e", display: str = "signed",
                             scale: str = "per_map", budget: float = 30, *, lang: str,
                             progress: gr.Progress = gr.Progress()) -> tuple[Any, dict]:
        """Several attribution methods side by side on the same photo and the same target class, each map with
        its faithfulness score (insertion minus deletion AUC: higher ranks the evidence better).

        Args:
            image: The photo (JPEG, PNG, WebP, HEIC/HEIF, AVIF, BMP, TIFF, GIF or ICO).
            methods: The methods to compare (names as for the attribute tool), e.g. ["integrated_gradients", "saliency"].
            target: The class to explain: top1 (the prediction), an index 0-999, a name ("tabby") or "281: tabby".
            preset: Cost and detail of every method: fast, balanced or thorough.
            layer: The Inception module of layer_gradcam and guided_gradcam (inception3a ... inception5b).
            display: signed (positive and negative evidence) or absolute (magnitude).
            scale: per_map (each map its own colour scale) or shared (one scale for all, stated on the figure).
            budget: Seconds each method may take; larger settings are scaled down to fit (0: no budget).
        Returns:
            The maps side by side (an image) and the numbers of every method as JSON.
        """
        if not methods:
            raise AttributionError("attributions.no_methods")
        absolute = display == "absolute"
        jobs = []
        for k, method in enumerate(methods):
            what = f"{method_name(method, lang) if method in attr_lib.METHODS else method} ({k + 1}/{len(methods)})"
            jobs.append(AttributionJob(self.settings_for(method, preset, layer, "black", None, None, None),
                                       budget or None, absolute, tr("attributions.progress", lang, what=what),
                                       start=k / len(methods), span=1 / len(methods)))
        ran = self.run_attributions(image, target, tuple(jobs), progress)
        panels, results = [], {}
        for method, result in zip(methods, ran.value.results):
            name = method_name(method, lang)
            if method in attr_lib.LAYER_METHODS:
                name += f" · {module_display_name(result.settings.layer)}"
            panels.append(attr_render.MapPanel(name, result.map, _caption(result, lang)))
            results[method] = _payload(result, lang)
        wanted = ran.value.results[0].target  # every panel explains the same class
        figure = attr_render.render_comparison(ran.value.crop, panels, absolute=absolute,
                                               shared_scale=scale == "shared",
                                               title=f"{wanted}: {display_name(wanted, lang)}",
                                               text=FigureText.load(lang))
        payload = {"target": wanted, "target_name": CATEGORIES[wanted], "scale": scale, "methods": results}
        if ran.on_cpu is not None:
            payload["computed_on"] = cpu_note(ran, lang).strip(" \n⚠️")
        return figure, payload

    @endpoint(heavy=True)
    def sanity_check(self, image: Optional[str], method: str = "integrated_gradients", target: Optional[str] = TOP1,
                     preset: str = "fast", layer: str = "inception4e", mode: str = "cascading", budget: float = 30,
                     *, lang: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, str, dict]:
        """The model-randomisation sanity check (Adebayo et al. 2018) of one attribution method: the weights of a
        private copy are randomised block by block and the map recomputed; a low Spearman correlation with the
        original map shows that the map depends on what the network learned, as an explanation must.

        Args:
            image: The photo (JPEG, PNG, WebP, HEIC/HEIF, AVIF, BMP, TIFF, GIF or ICO).
            method: The method to check (names as for the attribute tool).
            target: The class to explain: top1 (the prediction), an index 0-999, a name ("tabby") or "281: tabby".
            preset: Cost and detail of the method: fast, balanced or thorough.
            layer: The Inception module of layer_gradcam and guided_gradcam (inception3a ... inception5b).
            mode: cascading (randomise from the top down, cumulatively) or independent (one block at a time).
            budget: Seconds the whole check may take; the method's settings are scaled down to fit (0: no budget).
        Returns:
            The maps after each randomisation with their correlations (an image), a Markdown summary and the \
            numbers as JSON.
        """
        path, wanted = require_image(image), self.target_index(target)
        job = SanityJob(self.settings_for(method, preset, layer, "black", None, None, None), mode, budget or None,
                        tr("attributions.sanity", lang))
        ran = self.services.on_device(sanity_on_device, path, wanted, job, progress,
                                      cpu_args=(path, wanted, replace(job, budget_s=self.cpu_budget(job.budget_s)),
                                                progress))
        crop, result = ran.value.crop, ran.value.result
        text = FigureText.load(lang)
        figure = attr_render.render_sanity(
            crop, result.original, [s.block for s in result.steps], [s.map for s in result.steps],
            [s.spearman_abs for s in result.steps], [s.spearman_signed for s in result.steps],
            method=method_name(method, lang), mode=tr(f"attributions.sanity_mode.{mode}", lang), text=text)
        # cascading: the last step has every block randomised; independent: report the block that changed it most
        step = result.steps[-1] if mode == "cascading" else min(result.steps, key=lambda st: st.spearman_abs)
        summary = tr(f"attributions.sanity_summary.{mode}", lang, rho=step.spearman_abs, block=step.block,
                     fwd=result.cost.forward, bwd=result.cost.backward, seconds=result.elapsed_s)
        return figure, _with_notes(summary, result.notes, lang) + cpu_note(ran, lang), _payload(result, lang)

    def branch_maps_figure(self, view: Optional[BranchView], module: str, display: str, lang: str) -> Any:
        if view is None:
            return None
        i = view.result.modules.index(module)
        return attr_render.render_branch_maps(view.crop, view.result.maps[module], view.result.values[i], module,
                                              view.result.branches, absolute=display == "absolute",
                                              text=FigureText.load(lang))

    def run_branches(self, image: Optional[str], target: Optional[str], branch_method: str, preset: str,
                     module: str, display: str, lang: str, progress: Optional[gr.Progress]) -> tuple:
        path, wanted = require_image(image), self.target_index(target)
        job = BranchJob(branch_method, preset, tr("attributions.branches", lang))
        on_cpu = replace(job, max_seconds=self.services.limits.cpu_fallback_s)
        ran = self.services.on_device(branch_attribution_on_device, path, wanted, job, progress,
                                      cpu_args=(path, wanted, on_cpu, progress))
        result = ran.value.result
        title = tr("attributions.fig.branch_title", lang, target=f"{result.target}: {display_name(result.target, lang)}",
                   method=tr(f"attributions.branch_method.{branch_method}", lang))
        matrix = attr_render.render_branch_matrix(result.values, result.modules, result.branches,
                                                  share=result.share(), title=title, text=FigureText.load(lang))
        view = BranchView(result, ran.value.crop)
        payload = _payload(result, lang)
        if ran.on_cpu is not None:
            payload["computed_on"] = cpu_note(ran, lang).strip(" \n⚠️")
        return matrix, self.branch_maps_figure(view, module, display, lang), payload, view

    @endpoint(heavy=True)
    def attribute_branches(self, image: Optional[str], target: Optional[str] = TOP1,
                           branch_method: str = "grad_x_activation", preset: str = "fast",
                           module: str = "inception4c", display: str = "signed", *, lang: str,
                           progress: gr.Progress = gr.Progress()) -> tuple[Any, Any, dict]:
        """How much each of the four branches of each of GoogLeNet's nine Inception modules contributed to a
        target class on a photo (attribution in logit units; each module's values sum to its share of the logit).

        Args:
            image: The photo (JPEG, PNG, WebP, HEIC/HEIF, AVIF, BMP, TIFF, GIF or ICO).
            target: The class to explain: top1 (the prediction), an index 0-999, a name ("tabby") or "281: tabby".
            branch_method: grad_x_activation (gradient x activation, one pass) or layer_integrated_gradients.
            preset: Steps of layer_integrated_gradients: fast, balanced or thorough.
            module: The module whose four branch maps are drawn (inception3a ... inception5b).
            display: signed (positive and negative evidence) or absolute (magnitude).
        Returns:
            The module x branch matrix (an image), the chosen module's four branch maps (an image) and the \
            numbers of every branch of every module as JSON.
        """
        return self.run_branches(image, target, branch_method, preset, module, display, lang, progress)[:3]

    @endpoint(heavy=True)
    def attribute_branches_run(self, image: Optional[str], target: Optional[str], branch_method: str, preset: str,
                               module: str, display: str, *, lang: str,
                               progress: gr.Progress = gr.Progress()) -> tuple[Any, Any, dict, Optional[BranchView]]:
        """The page's button: :meth:`attribute_branches`, plus the result kept in the page's state, so another
        module's maps need no recomputation."""
        return self.run_branches(image, target, branch_method, preset, module, display, lang, progress)

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
            result = self.services.on_device(classify_on_device, image).value
        except KeyedError:  # the Classify tab already says what is wrong with the photo (or that no GPU answered)
            return gr.update(choices=[], value=None)
        choices = [(f"{display_name(s.index, lang)} ({s.probability:.0%})", str(s.index)) for s in result.top]
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
                    target = class_picker(page, TOP1, head=[(label("attributions.target_top1"), TOP1)],
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
                branch_api = gr.Button(visible=False)  # carries /attribute_branches (no state)
                with gr.Row():
                    branch_matrix = gr.Image(type="pil", format="png", interactive=False, show_label=False,
                                             label=label("attributions.branch_matrix"))
                    branch_maps = gr.Image(type="pil", format="png", interactive=False, show_label=False,
                                           label=label("attributions.branch_maps"))
                branch_raw = gr.JSON(label=label("attributions.raw"))
                branch_state = gr.State(None)
            gr.Markdown(label("attributions.explain"))

        page.share("module", "attributions", layer, INCEPTION_MODULES)
        page.share("method", "attributions", method, attr_lib.METHODS)
        cost_inputs = [page.image, method, preset, layer, baseline, steps, window, stride, budget]
        for component in (method, preset, layer, baseline, steps, window, stride, budget):
            wire(component.change, self.cost, cost_inputs, cost)
        wire(page.photo_changed, self.top5_choices, page.image, top5)
        wire(page.photo_changed, self.cost, cost_inputs, cost)
        wire(tab.select, self.cost, cost_inputs, cost)
        wire(top5.select, self.pick_target, top5, target)
        wire(run.click, self.attribute, [page.image, method, target, preset, layer, display, baseline, budget, steps,
                                         window, stride], [figure, summary, raw], api_name="attribute")
        wire(compare_run.click, self.compare_attributions, [page.image, compare_methods, target, preset, layer, display, scale,
                                               budget], [compare_figure, compare_raw], api_name="compare_attributions")
        wire(sanity_run.click, self.sanity_check, [page.image, method, target, preset, layer, mode, budget],
             [sanity_figure, sanity_summary, sanity_raw], api_name="sanity_check")
        # API clients and MCP agents get /attribute_branches without the gr.State output (an MCP tool with a State
        # output fails: gradio/mcp.py pop_returned_state); the page's button keeps the result for other modules.
        branch_inputs = [page.image, target, branch_method, preset, branch_module, display]
        wire(branch_api.click, self.attribute_branches, branch_inputs, [branch_matrix, branch_maps, branch_raw],
             api_name="attribute_branches")
        wire(branch_run.click, self.attribute_branches_run, branch_inputs,
             [branch_matrix, branch_maps, branch_raw, branch_state])
        wire(branch_module.change, self.show_branch_maps, [branch_state, branch_module, display], branch_maps)
