"""The Auxiliary heads tab and ``/aux_heads``: the main head, aux1 and aux2 in (read-only) train mode."""

from __future__ import annotations

from typing import Any, Optional

import gradio as gr

from googlenet.aux_heads import AuxHeadsInfo, AuxHeadsStatus, AuxOptions, AuxResult
from googlenet.inference import ClassScore
from googlenet.labels import shown_name
from googlenet.render.aux_heads import ChartText, render_head_charts

from ..components import Number, Slider
from ..endpoint import endpoint, wire
from ..i18n import label, tr
from ..limits import ZERO_GPU_TIME
from ..page import Page, cpu_note, require_image
from ..services import Services
from ..zerogpu import Ran, gpu

__all__ = ["AuxHeadsTab", "aux_heads_on_device", "chart_text", "summary_markdown", "status_text"]

HEADS_WITH_NOTICES = ("aux1", "aux2")


@gpu(duration=ZERO_GPU_TIME.seconds())  # the trunk once, the three heads once per seed: a few forward passes
def aux_heads_on_device(services_key: str, path: str, options: AuxOptions, with_examples: bool) -> AuxResult:
    """The heads in train mode. On ZeroGPU this runs in a worker process: CPU data in and out (the charts are drawn
    by the server, which needs no GPU for that)."""
    services = Services.find(services_key)
    companions = services.examples if with_examples else ()
    return services.aux_heads.run(path, options, companions=companions)


def _name(score: ClassScore, lang: str) -> str:
    return shown_name(score.index, score.name, lang)


def status_text(info: AuxHeadsInfo, lang: str) -> str:
    return tr(f"aux.status.{info.status.value}", lang, file=info.file_name)


def chart_text(result: AuxResult, lang: str) -> ChartText:
    """Every word on the charts, in ``lang``: titles with the heads' status, and a notice across a chart whose
    head is untrained (or distilled for other weights)."""
    info = result.aux_info
    status = status_text(info, lang)
    notices: dict[str, str] = {}
    if info.status is AuxHeadsStatus.UNTRAINED_OFFICIAL:
        notices = {h: tr("aux.notice.untrained_official", lang) for h in HEADS_WITH_NOTICES}
    elif info.status is AuxHeadsStatus.UNTRAINED_RANDOM:
        notices = {h: tr("aux.notice.untrained_random", lang) for h in ("main", *HEADS_WITH_NOTICES)}
    elif info.trunk_mismatch:
        notices = {h: tr("aux.notice.mismatch", lang) for h in HEADS_WITH_NOTICES}
    if not result.options.train_mode:  # the aux charts only say that they are not run
        notices = {h: n for h, n in notices.items() if h == "main"}
    main_key = "aux.chart.main_train" if result.options.train_mode else "aux.chart.main_eval"
    titles = {"main": tr(main_key, lang), "aux1": tr("aux.chart.aux1", lang, status=status),
              "aux2": tr("aux.chart.aux2", lang, status=status)}
    return ChartText.load(lang).with_heads(titles, notices)


def summary_markdown(result: AuxResult, lang: str) -> str:
    """Where the heads come from, the settings of the run, train vs eval, and the agreement table."""
    info = result.aux_info
    lines = [tr("aux.summary.heads", lang, label=status_text(info, lang))]
    if info.status is AuxHeadsStatus.UNTRAINED_OFFICIAL:
        lines.append(f"**⚠️ {tr('aux.notice.untrained_official', lang)}**")
    elif info.status is AuxHeadsStatus.UNTRAINED_RANDOM:
        lines.append(f"**⚠️ {tr('aux.notice.untrained_random', lang)}**")
    elif info.status is AuxHeadsStatus.CUSTOM:
        lines.append(tr("aux.note.custom", lang, file=info.file_name))
    else:
        lines.append(tr("aux.note.distilled", lang, file=info.file_name, epochs=info.meta.get("epochs", "?"),
                        loss=float(info.meta.get("loss", float("nan")))))
        if info.trunk_mismatch:
            lines.append(f"**⚠️ {tr('aux.notice.mismatch', lang)}**")
    main, ev = result.heads["main"], result.eval_main
    if not result.options.train_mode:
        lines.append(tr("aux.summary.eval_mode", lang, name=_name(ev.top[0], lang), p=ev.top[0].probability))
        return "\n\n".join(lines)
    o = result.options
    lines.append(tr("aux.summary.settings", lang,
                    dropout=tr("aux.summary.on" if o.dropout else "aux.summary.off", lang),
                    bn=tr(f"aux.bn.{o.batchnorm.value}", lang), n=result.batch_size,
                    seeds=", ".join(str(s) for s in result.seeds)))
    lines.append(tr("aux.summary.eval_main", lang, name=_name(ev.top[0], lang), p=ev.top[0].probability,
                    train_name=_name(main.top[0], lang), tp=main.top[0].probability, js=result.train_vs_eval_js))
    yes, no = tr("aux.summary.yes", lang), tr("aux.summary.no", lang)
    table = [tr("aux.summary.table", lang), "|---|---|---|---|"]
    for a in result.agreement:
        table.append(f"| {a.a} / {a.b} | {yes if a.top1_agree else no} | {a.top1_agreement_rate:.0%} "
                     f"| {a.js_divergence:.3f} |")
    lines.append("\n".join(table))
    return "\n\n".join(lines)


class AuxHeadsTab:
    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, image: Optional[str], train_mode: bool, dropout: bool, seed: Optional[float], batchnorm: str,
            repeats: float, batch: str, lang: str) -> tuple[Any, str, dict]:
        options = AuxOptions(train_mode=bool(train_mode), dropout=bool(dropout),
                             seed=None if seed is None or seed == "" else int(seed), batchnorm=batchnorm,
                             repeats=int(repeats))
        ran: Ran[AuxResult] = self.services.on_device(aux_heads_on_device, require_image(image), options,
                                                      batch == "examples")
        result = ran.value
        payload = result.to_json()
        payload["aux_heads"] = result.aux_info.description.text(lang)
        summary = summary_markdown(result, lang) + cpu_note(ran, lang)
        return render_head_charts(result, chart_text(result, lang)), summary, payload

    @endpoint(trims_memory=True)
    def aux_heads(self, image: Optional[str], train_mode: bool = True, dropout: bool = True,
                  seed: Optional[float] = 0, batchnorm: str = "batch", repeats: float = 5, batch: str = "alone", *,
                  lang: str) -> tuple[Any, str, dict]:
        """GoogLeNet's three classifier heads on one photo: the main head, aux1 (after inception4a) and aux2 (after
        inception4d), in train mode as in training (computed on private copies: the shared model is never changed).
        torchvision's checkpoint ships the aux heads untrained, so their answers are noise unless the server loaded
        distilled aux weights; the summary says which.

        Args:
            image: The photo (JPEG, PNG, WebP, HEIC/HEIF, AVIF, BMP, TIFF, GIF or ICO).
            train_mode: True: train mode (dropout, batch statistics, aux heads run); False: plain eval mode.
            dropout: Dropout on (masks drawn from the seed) or off, in train mode.
            seed: Seed of the first run's dropout masks (runs use seed, seed+1, ...); empty for a random one.
            batchnorm: BatchNorm statistics in train mode: batch (the batch's own) or running (the stored ones).
            repeats: Runs with different dropout masks, 1 to 20, averaged.
            batch: The BatchNorm batch: alone (the photo by itself) or examples (with the example photos).
        Returns:
            The three heads' top-5 as one chart image, a Markdown summary of how far the heads agree (top-1, \
            agreement rate, Jensen-Shannon divergence) and the numbers as JSON.
        """
        return self.run(image, train_mode, dropout, seed, batchnorm, repeats, batch, lang)

    @endpoint(trims_memory=True)
    def aux_heads_changed(self, image: Optional[str], train_mode: bool, dropout: bool, seed: Optional[float],
                          batchnorm: str, repeats: float, batch: str, *, lang: str) -> tuple:
        """Re-run when a control changes, but only once there is a photo (no error pop-ups while setting up)."""
        if not image:
            return gr.skip(), gr.skip(), gr.skip()
        return self.run(image, train_mode, dropout, seed, batchnorm, repeats, batch, lang)

    def build(self, page: Page) -> None:
        with gr.Tab(label("aux.tab"), id="aux"):
            gr.Markdown(label("aux.intro"))
            with gr.Row():
                train_mode = gr.Checkbox(value=True, label=label("aux.train_mode"), info=label("aux.train_mode_info"),
                                         elem_id="aux-train-mode")
                dropout = gr.Checkbox(value=True, label=label("aux.dropout"), info=label("aux.dropout_info"),
                                      elem_id="aux-dropout")
                seed = Number(value=0, precision=0, minimum=0, label=label("aux.seed"),
                                 info=label("aux.seed_info"), elem_id="aux-seed")
                repeats = Slider(1, 20, value=5, step=1, label=label("aux.repeats"), elem_id="aux-repeats")
            with gr.Row():
                batchnorm = gr.Radio([(label("aux.bn.batch"), "batch"), (label("aux.bn.running"), "running")],
                                     value="batch", label=label("aux.bn_mode"), elem_id="aux-bn")
                batch = gr.Radio([(label("aux.batch.alone"), "alone"), (label("aux.batch.examples"), "examples")],
                                 value="alone", label=label("aux.batch"), elem_id="aux-batch")
            run = gr.Button(label("aux.run"), variant="primary", elem_id="aux-run")
            charts = gr.Image(label=label("aux.charts"), show_label=False, type="pil", interactive=False,
                              elem_id="aux-charts")
            summary = gr.Markdown(elem_id="aux-summary")
            with gr.Accordion(label("aux.explain.title"), open=True):
                for key in ("aux.explain.dropout", "aux.explain.batchnorm", "aux.explain.aux_heads",
                            "aux.explain.safety"):
                    gr.Markdown(label(key))
            with gr.Accordion(label("aux.raw"), open=False):
                raw = gr.JSON(elem_id="aux-json")
        inputs = [page.image, train_mode, dropout, seed, batchnorm, repeats, batch]
        outputs = [charts, summary, raw]
        wire(run.click, self.aux_heads, inputs, outputs, api_name="aux_heads")
        for control in (train_mode, dropout, batchnorm, batch):
            wire(control.change, self.aux_heads_changed, inputs, outputs)
        wire(seed.submit, self.aux_heads_changed, inputs, outputs)
        wire(repeats.release, self.aux_heads_changed, inputs, outputs)
