"""The Inception branches tab and ``/branches``: what every branch of every Inception module responded to.

One forward pass per photo captures all 36 branch outputs (``googlenet.activations``); the capture is kept per user
in ``gr.State``, so another module, measure, channel count or colour scale re-draws without running the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import gradio as gr
import pandas as pd
from PIL import Image

from googlenet import BRANCHES, INCEPTION_MODULES
from googlenet.activations import Capture, Measure, capture, overview_shares
from googlenet.branch_facts import module_facts
from googlenet.messages import KeyedError
from googlenet.model import branch_display_name, module_display_name
from googlenet.render.branches import BranchText, render_views, top_channels

from ..components import Slider
from ..endpoint import endpoint, wire
from ..i18n import label, tr
from ..limits import ZERO_GPU_TIME
from ..page import Page, cpu_note, require_image
from ..services import Services
from ..zerogpu import Ran, gpu

__all__ = ["BranchSession", "BranchesTab", "BranchViewError", "capture_on_device", "SCALES", "MAX_CHANNELS"]

SCALES: tuple[str, ...] = ("shared", "per_branch")
MAX_CHANNELS = 16


class BranchViewError(KeyedError, ValueError):
    """A module, measure or colour scale the branch view does not have."""


@dataclass(frozen=True)
class BranchSession:
    """Per-user state: one photo's capture of all 36 branch outputs, and the crop they came from."""

    capture: Capture
    crop: Image.Image  # 224 x 224


@gpu(duration=ZERO_GPU_TIME.seconds())  # one forward pass
def capture_on_device(services_key: str, path: str) -> BranchSession:
    """The forward pass of the branch explorer. On ZeroGPU this runs in a worker process: it returns CPU data only
    (numpy arrays and a PIL image)."""
    engine = Services.find(services_key).engine
    crop, x = engine.prepare(path)
    return BranchSession(capture(engine.fast, x), crop)


def _n(value: int) -> str:
    return f"{value:,}"


class BranchesTab:
    def __init__(self, services: Services) -> None:
        self.services = services

    def facts_markdown(self, session: BranchSession, module: str, lang: str) -> str:
        """The module's facts, computed from the model at this input size, as Markdown."""
        shape = next(s.shape for s in session.capture.layer_shapes if s.name == f"{module}.branch1")
        facts = module_facts(self.services.engine.reference, module, (shape[1], shape[2]))
        rows = [tr("branches.facts_header", lang)]
        for b in facts.branches:
            layers = " → ".join(layer.text(lang) for layer in b.layers)
            rows.append(f"| {branch_display_name(b.branch, lang)} | {layers} | {b.out_channels} | "
                        f"{b.receptive_field}x{b.receptive_field} px | {_n(b.parameters)} | {_n(b.mult_adds)} |")
        b2, b3 = facts.branches[1], facts.branches[2]
        macs_saved = (b2.mult_adds_without_reduction - b2.mult_adds) + (b3.mult_adds_without_reduction - b3.mult_adds)
        parts = " + ".join(str(b.out_channels) for b in facts.branches)
        return "\n\n".join([
            tr("branches.facts_summary", lang, module=module_display_name(module), in_channels=facts.in_channels,
               h=facts.spatial[0], w=facts.spatial[1], out_channels=facts.out_channels, parts=parts,
               params=_n(facts.parameters), macs=_n(facts.mult_adds)),
            "\n".join(rows),
            tr("branches.facts_reduction", lang, in_channels=facts.in_channels, with3=_n(b2.parameters),
               without3=_n(b2.parameters_without_reduction), saved3=_n(b2.parameters_saved),
               with5=_n(b3.parameters), without5=_n(b3.parameters_without_reduction),
               saved5=_n(b3.parameters_saved), macs_saved=_n(macs_saved)),
            tr("branches.facts_kernel", lang, k=facts.branch3_kernel, paper=_n(b3.parameters_with_paper_kernel),
               actual=_n(b3.parameters)),
            tr("branches.facts_rf", lang),
        ])

    def views(self, session: BranchSession, module: str, measure: str, n_channels: float, scale: str,
              lang: str, note: str = "") -> tuple:
        """Everything the tab shows, drawn from a stored capture (no forward pass here); ``note`` goes under the
        facts (e.g. that the capture came from the CPU)."""
        if module not in INCEPTION_MODULES:
            raise BranchViewError("errors.unknown_module", value=module, choices=", ".join(INCEPTION_MODULES))
        try:
            measure = Measure(measure)
        except ValueError:
            raise BranchViewError("errors.unknown_measure", value=measure,
                                  choices=", ".join(m.value for m in Measure)) from None
        if scale not in SCALES:
            raise BranchViewError("errors.unknown_scale", value=scale, choices=", ".join(SCALES))
        n = max(1, min(MAX_CHANNELS, int(n_channels or 8)))
        cap = session.capture
        shares = overview_shares(cap, measure)
        figures = render_views(cap, module, session.crop, shares, tr(f"branches.measure.{measure.value}", lang), n,
                               scale == "shared", BranchText.load(lang))
        shapes = pd.DataFrame(
            [[s.name, " x ".join(str(d) for d in s.shape)] for s in cap.layer_shapes],
            columns=[tr("branches.shapes_header_layer", lang), tr("branches.shapes_header_shape", lang)],
        )
        raw = {
            "measure": measure.value,
            "modules": list(INCEPTION_MODULES),
            "branches": list(BRANCHES),
            "shares": [[round(float(v), 6) for v in row] for row in shares],
            "module": module,
            "top_channels": {
                r[0].branch: [{"index": c.index, "global_index": c.global_index,
                               "mean_activation": c.mean_activation} for c in r]
                for r in top_channels(cap, module, n)
            },
            "input_size": list(cap.input_size),
        }
        return (figures.overview, figures.heatmaps, figures.channels,
                self.facts_markdown(session, module, lang) + note, shapes, raw)

    def capture(self, image: str, lang: str) -> tuple[BranchSession, str]:
        ran: Ran[BranchSession] = self.services.on_device(capture_on_device, image)
        return ran.value, cpu_note(ran, lang)

    @endpoint(trims_memory=True)
    def branches(self, image: Optional[str], module: str = "inception4a", measure: str = "activation_sum",
                 n_channels: float = 8, scale: str = "shared", *, lang: str) -> tuple:
        """What every branch of GoogLeNet's nine Inception modules responded to in a photo (one forward pass).

        Args:
            image: The photo (JPEG, PNG, WebP, HEIC/HEIF, AVIF, BMP, TIFF, GIF or ICO).
            module: The Inception module to look at closely: inception3a, 3b, 4a, 4b, 4c, 4d, 4e, 5a or 5b.
            measure: A branch's share of its module: activation_sum, mean_activation (per channel) or l2_energy.
            n_channels: How many of each branch's most active channels to show, 1 to 16.
            scale: The colour scale of the heatmaps: shared (one for all four branches) or per_branch.
        Returns:
            The overview of every branch's share in all nine modules, the chosen module's four branch heatmaps, \
            its most active channels per branch, its facts as Markdown (layers, receptive fields, parameters; \
            torchvision's "5x5" branch is 3x3), every layer's shape as a table, and the numbers as JSON.
        """
        session, note = self.capture(require_image(image), lang)
        return self.views(session, module, measure, n_channels, scale, lang, note)

    @endpoint(trims_memory=True)
    def branches_run(self, image: Optional[str], module: str, measure: str, n_channels: float, scale: str, *,
                     lang: str) -> tuple:
        """The page's button: :meth:`branches`, plus the capture kept in the page's state for re-drawing."""
        session, note = self.capture(require_image(image), lang)
        return (*self.views(session, module, measure, n_channels, scale, lang, note), session)

    @endpoint(trims_memory=True)
    def branches_changed(self, image: Optional[str], module: str, measure: str, n_channels: float, scale: str, *,
                         lang: str) -> tuple:
        """A new photo on the page: capture and draw; a cleared photo clears the views."""
        if not image:
            return None, None, None, "", None, None, None
        session, note = self.capture(image, lang)
        return (*self.views(session, module, measure, n_channels, scale, lang, note), session)

    @endpoint(trims_memory=True)
    def rerender(self, session: Optional[BranchSession], module: str, measure: str, n_channels: float, scale: str,
                 *, lang: str) -> tuple:
        """Another module, measure, channel count or scale: re-draw from the stored capture, no forward pass."""
        if session is None:
            return (gr.skip(),) * 6
        return self.views(session, module, measure, n_channels, scale, lang)

    @endpoint()
    def top_table(self, raw: Optional[dict], *, lang: str) -> pd.DataFrame:
        """The most active channels of the shown module as rows (module, branch, index in the branch, mean
        activation): a click on one opens the Units tab with that unit."""
        rows = []
        if raw:
            for branch, channels in (raw.get("top_channels") or {}).items():
                rows += [[raw["module"], branch, c["index"], round(float(c["mean_activation"]), 4)] for c in channels]
        return pd.DataFrame(rows, columns=[tr("units.top_module", lang), tr("units.top_branch", lang),
                                           tr("units.top_channel", lang), tr("units.top_value", lang)])

    def build(self, page: Page) -> None:
        modules = [(module_display_name(m), m) for m in INCEPTION_MODULES]
        measures = [(label(f"branches.measure.{m.value}"), m.value) for m in Measure]
        scales = [(label(f"branches.scale.{s}"), s) for s in SCALES]
        with gr.Tab(label("branches.tab"), id="branches"):
            gr.Markdown(label("branches.intro"))
            state = gr.State(time_to_live=3600)  # the capture: ~2.5 MB of float16 per user, dropped after an hour
            with gr.Row():
                module = gr.Dropdown(modules, value="inception4a", label=label("branches.module"),
                                     elem_id="br-module")
                measure = gr.Radio(measures, value="activation_sum", label=label("branches.measure"),
                                   elem_id="br-measure")
                n_channels = Slider(1, MAX_CHANNELS, value=8, step=1, label=label("branches.channels"),
                                       elem_id="br-n")
                scale = gr.Radio(scales, value="shared", label=label("branches.scale"), elem_id="br-scale")
            run = gr.Button(label("branches.run"), variant="primary", elem_id="br-run")
            api_trigger = gr.Button(visible=False)  # carries /branches: the same views, without the page's state
            overview = gr.Image(label=label("branches.overview"), type="pil", interactive=False,
                                elem_id="br-overview")
            page.branch_overview = overview
            gr.Markdown(label("branches.measure_note"))
            heatmaps = gr.Image(label=label("branches.heatmaps"), type="pil", interactive=False,
                                elem_id="br-heatmaps")
            channels = gr.Image(label=label("branches.channels_grid"), type="pil", interactive=False,
                                elem_id="br-channels")
            gr.Markdown(label("units.top_hint"))
            top = gr.Dataframe(headers=[label("units.top_module"), label("units.top_branch"),
                                        label("units.top_channel"), label("units.top_value")],
                               interactive=False, elem_id="br-top")
            page.branch_top_channels = top  # a click on a row opens the Units tab with that unit (units.py)
            with gr.Accordion(label("branches.facts"), open=True):
                facts = gr.Markdown(elem_id="br-facts")
            with gr.Accordion(label("branches.shapes"), open=False):
                shapes = gr.Dataframe(headers=[label("branches.shapes_header_layer"),
                                               label("branches.shapes_header_shape")], interactive=False,
                                      elem_id="br-shapes")
            with gr.Accordion(label("branches.raw"), open=False):
                raw = gr.JSON(elem_id="br-json")
        page.share("module", "branches", module, INCEPTION_MODULES)
        controls = [module, measure, n_channels, scale]
        views = [overview, heatmaps, channels, facts, shapes, raw]
        # API clients and MCP agents get /branches without the gr.State output (an MCP tool with a State output
        # fails: gradio/mcp.py pop_returned_state); the page's button keeps the capture for re-drawing.
        wire(api_trigger.click, self.branches, [page.image, *controls], views, api_name="branches")
        wire(run.click, self.branches_run, [page.image, *controls], [*views, state])
        wire(page.photo_changed, self.branches_changed, [page.image, *controls], [*views, state])
        for control in (module, measure, scale):
            wire(control.change, self.rerender, [state, *controls], views)
        wire(n_channels.release, self.rerender, [state, *controls], views)
        wire(raw.change, self.top_table, [raw], [top])
