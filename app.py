"""GoogLeNet Explorer: the Gradio page. Layout, event wiring and thin adapters only.

All tensor work lives in the ``googlenet`` package; all visible text lives in ``ui_strings``. Shared objects (the
:class:`~googlenet.inference.Engine` and its models) are read-only; per-user state lives in ``gr.State``.

Run ``python app.py --help`` for options. ``demo`` is module-level so that ``gradio app.py`` and Hugging Face Spaces
find it.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional, Sequence

import gradio as gr

from googlenet.aux_heads import (AuxHeads, AuxHeadsInfo, AuxHeadsStatus, AuxOptions, AuxResult, ChartText,
                                 render_head_charts)
from googlenet.images import ImageInputError
from googlenet.inference import Engine
from ui_strings import TRANSLATIONS, language_from_header, tr

log = logging.getLogger("googlenet.app")

ROOT = Path(__file__).resolve().parent
ASSETS = ROOT / "assets"
EXAMPLES: list[str] = sorted(str(p) for p in ASSETS.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})

I18N = gr.I18n(**TRANSLATIONS)


# ---------------------------------------------------------------------------------------------------------------
# Settings and the shared engine
# ---------------------------------------------------------------------------------------------------------------


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """How the process loads its model. Read from the environment; ``python app.py`` flags override."""

    weights: Optional[str] = None
    device: Optional[str] = None
    allow_download: bool = True
    require_pretrained: bool = False
    aux_weights: Optional[str] = None  # a distill-aux file for the aux heads (issue 5)

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            weights=os.environ.get("GOOGLENET_WEIGHTS") or None,
            device=os.environ.get("GOOGLENET_DEVICE") or None,
            allow_download=not _env_flag("GOOGLENET_NO_DOWNLOAD"),
            require_pretrained=_env_flag("GOOGLENET_REQUIRE_PRETRAINED"),
            aux_weights=os.environ.get("GOOGLENET_AUX_WEIGHTS") or None,
        )


_settings = Settings.from_env()
_engine: Optional[Engine] = None
_engine_lock = threading.Lock()


def configure(settings: Settings) -> None:
    """Replace the settings; the engine is (re)loaded on next use."""
    global _settings, _engine
    with _engine_lock:
        _settings, _engine = settings, None


def get_engine() -> Engine:
    """The process's one engine, loaded on first use (thread-safe)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine.from_options(
                _settings.weights,
                device=_settings.device,
                allow_download=_settings.allow_download,
                require_pretrained=_settings.require_pretrained,
            )
        return _engine


# ---------------------------------------------------------------------------------------------------------------
# Adapters shared by every tab
# ---------------------------------------------------------------------------------------------------------------


def request_language(request: Optional[gr.Request]) -> str:
    """The UI language for server-written text: from the browser's Accept-Language header."""
    headers = getattr(request, "headers", None) if request is not None else None
    return language_from_header(headers.get("accept-language") if headers is not None else None)


def user_error(exc: Exception, lang: str) -> gr.Error:
    """Turn a problem the user can fix into a message on the page (and for API clients)."""
    log.info("rejected input: %s", exc)
    return gr.Error(str(exc), print_exception=False)


def require_image(image: Optional[str], lang: str) -> str:
    if not image:
        raise gr.Error(tr("common.no_image", lang), print_exception=False)
    return image


def weights_banner() -> str:
    """Shown at the top of the page: loud when the weights are untrained."""
    engine = get_engine()
    if engine.weights.warning:
        return f"### {I18N('common.untrained_banner')}"
    return ""


# ---------------------------------------------------------------------------------------------------------------
# Classify tab
# ---------------------------------------------------------------------------------------------------------------


def classify(image: Optional[str], request: gr.Request = None) -> tuple[dict[str, float], Any, str, dict]:
    """Top-5 classes, the 224x224 crop, a one-line summary and the raw result for one photo."""
    lang = request_language(request)
    engine = get_engine()
    try:
        result = engine.classify(require_image(image, lang))
    except ImageInputError as exc:
        raise user_error(exc, lang) from exc
    info = tr("classify.info", lang, weights=result.weights.description, device=result.device, ms=result.elapsed_ms)
    if result.weights.warning:
        info = f"**⚠️ {result.weights.warning}** · {info}"
    return result.as_label_dict(), result.crop, info, result.to_json()


@dataclass
class Page:
    """Components that several tabs share."""

    image: gr.Image


def build_classify_tab(page: Page) -> None:
    with gr.Tab(I18N("classify.tab"), id="classify"):
        with gr.Row():
            with gr.Column():
                top5 = gr.Label(num_top_classes=5, label=I18N("classify.top5"), elem_id="top5")
                info = gr.Markdown(elem_id="classify-info")
            crop = gr.Image(label=I18N("classify.crop"), type="pil", interactive=False, elem_id="crop",
                            height=260)
        gr.Markdown(I18N("classify.explain"))
        with gr.Accordion(I18N("classify.raw"), open=False):
            raw = gr.JSON(elem_id="classify-json")
    outputs = [top5, crop, info, raw]
    page.image.upload(classify, inputs=page.image, outputs=outputs, api_name="classify")
    page.image.input(classify, inputs=page.image, outputs=outputs, api_visibility="private")


# ---------------------------------------------------------------------------------------------------------------
# Auxiliary heads tab (issue 5)
# ---------------------------------------------------------------------------------------------------------------

_aux: Optional[AuxHeads] = None
_aux_lock = threading.Lock()


def get_aux_heads() -> AuxHeads:
    """The engine's trunk plus a private pair of aux heads (from --aux-weights when given), built once."""
    global _aux
    engine = get_engine()
    with _aux_lock:
        if _aux is None or _aux.engine is not engine:  # configure() may have replaced the engine
            _aux = AuxHeads(engine, _settings.aux_weights)
        return _aux


def _aux_status(info: AuxHeadsInfo, lang: str) -> str:
    return tr(f"aux.status.{info.status.value}", lang, file=info.file_name)


def _aux_chart_text(result: AuxResult, lang: str) -> ChartText:
    info = result.aux_info
    status = _aux_status(info, lang)
    notices: dict[str, str] = {}
    if info.status is AuxHeadsStatus.UNTRAINED_OFFICIAL:
        notices = {"aux1": tr("aux.notice.untrained_official", lang), "aux2": tr("aux.notice.untrained_official", lang)}
    elif info.status is AuxHeadsStatus.UNTRAINED_RANDOM:
        notices = {h: tr("aux.notice.untrained_random", lang) for h in ("main", "aux1", "aux2")}
    elif info.trunk_mismatch:
        notices = {"aux1": tr("aux.notice.mismatch", lang), "aux2": tr("aux.notice.mismatch", lang)}
    if not result.options.train_mode:  # the aux charts only say that they are not run
        notices = {h: n for h, n in notices.items() if h == "main"}
    main_key = "aux.chart.main_train" if result.options.train_mode else "aux.chart.main_eval"
    return ChartText(
        titles={"main": tr(main_key, lang), "aux1": tr("aux.chart.aux1", lang, status=status),
                "aux2": tr("aux.chart.aux2", lang, status=status)},
        probability=tr("aux.chart.probability", lang),
        eval_marker=tr("aux.chart.eval_marker", lang),
        spread=tr("aux.chart.spread", lang),
        not_run=tr("aux.chart.not_run", lang),
        notices=notices,
    )


def _aux_summary(result: AuxResult, lang: str) -> str:
    info = result.aux_info
    lines = [tr("aux.summary.heads", lang, label=_aux_status(info, lang))]
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
        lines.append(tr("aux.summary.eval_mode", lang, name=ev.top[0].name, p=ev.top[0].probability))
        return "\n\n".join(lines)
    o = result.options
    lines.append(tr("aux.summary.settings", lang,
                    dropout=tr("aux.summary.on" if o.dropout else "aux.summary.off", lang),
                    bn=tr(f"aux.bn.{o.batchnorm.value}", lang), n=result.batch_size,
                    seeds=", ".join(str(s) for s in result.seeds)))
    lines.append(tr("aux.summary.eval_main", lang, name=ev.top[0].name, p=ev.top[0].probability,
                    train_name=main.top[0].name, tp=main.top[0].probability, js=result.train_vs_eval_js))
    yes, no = tr("aux.summary.yes", lang), tr("aux.summary.no", lang)
    table = [tr("aux.summary.table", lang), "|---|---|---|---|"]
    for a in result.agreement:
        table.append(f"| {a.a} / {a.b} | {yes if a.top1_agree else no} | {a.top1_agreement_rate:.0%} "
                     f"| {a.js_divergence:.3f} |")
    lines.append("\n".join(table))
    return "\n\n".join(lines)


def aux_heads(image: Optional[str], train_mode: bool = True, dropout: bool = True, seed: Optional[float] = 0,
              batchnorm: str = "batch", repeats: float = 5, batch: str = "alone",
              request: gr.Request = None) -> tuple[Any, str, dict]:
    """Main head, aux1 and aux2 in (read-only) train mode: charts, agreement summary and the raw result."""
    lang = request_language(request)
    runner = get_aux_heads()
    try:
        options = AuxOptions(train_mode=bool(train_mode), dropout=bool(dropout),
                             seed=None if seed is None or seed == "" else int(seed), batchnorm=batchnorm,
                             repeats=int(repeats))
        result = runner.run(require_image(image, lang), options,
                            companions=EXAMPLES if batch == "examples" else ())
    except (ImageInputError, ValueError) as exc:
        raise user_error(exc, lang) from exc
    return render_head_charts(result, _aux_chart_text(result, lang)), _aux_summary(result, lang), result.to_json()


def _aux_heads_auto(image: Optional[str], *args: Any, request: gr.Request = None) -> Any:
    # Re-run when a control changes, but only once there is a photo (no error pop-ups while setting up).
    if not image:
        return gr.skip(), gr.skip(), gr.skip()
    return aux_heads(image, *args, request=request)


def build_aux_tab(page: Page) -> None:
    with gr.Tab(I18N("aux.tab"), id="aux"):
        gr.Markdown(I18N("aux.intro"))
        with gr.Row():
            train_mode = gr.Checkbox(value=True, label=I18N("aux.train_mode"), info=I18N("aux.train_mode_info"),
                                     elem_id="aux-train-mode")
            dropout = gr.Checkbox(value=True, label=I18N("aux.dropout"), info=I18N("aux.dropout_info"),
                                  elem_id="aux-dropout")
            seed = gr.Number(value=0, precision=0, minimum=0, label=I18N("aux.seed"), info=I18N("aux.seed_info"),
                             elem_id="aux-seed")
            repeats = gr.Slider(1, 20, value=5, step=1, label=I18N("aux.repeats"), elem_id="aux-repeats")
        with gr.Row():
            batchnorm = gr.Radio([(I18N("aux.bn.batch"), "batch"), (I18N("aux.bn.running"), "running")],
                                 value="batch", label=I18N("aux.bn_mode"), elem_id="aux-bn")
            batch = gr.Radio([(I18N("aux.batch.alone"), "alone"), (I18N("aux.batch.examples"), "examples")],
                             value="alone", label=I18N("aux.batch"), elem_id="aux-batch")
        run = gr.Button(I18N("aux.run"), variant="primary", elem_id="aux-run")
        charts = gr.Image(label=I18N("aux.charts"), show_label=False, type="pil", interactive=False,
                          elem_id="aux-charts")
        summary = gr.Markdown(elem_id="aux-summary")
        with gr.Accordion(I18N("aux.explain.title"), open=True):
            for key in ("aux.explain.dropout", "aux.explain.batchnorm", "aux.explain.aux_heads",
                        "aux.explain.safety"):
                gr.Markdown(I18N(key))
        with gr.Accordion(I18N("aux.raw"), open=False):
            raw = gr.JSON(elem_id="aux-json")
    inputs = [page.image, train_mode, dropout, seed, batchnorm, repeats, batch]
    outputs = [charts, summary, raw]
    run.click(aux_heads, inputs=inputs, outputs=outputs, api_name="aux_heads")
    for control in (train_mode, dropout, batchnorm, batch):
        control.change(_aux_heads_auto, inputs=inputs, outputs=outputs, api_visibility="private")
    seed.submit(_aux_heads_auto, inputs=inputs, outputs=outputs, api_visibility="private")
    repeats.release(_aux_heads_auto, inputs=inputs, outputs=outputs, api_visibility="private")


# ---------------------------------------------------------------------------------------------------------------
# Page
# ---------------------------------------------------------------------------------------------------------------


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="GoogLeNet Explorer") as blocks:
        gr.Markdown(f"# {I18N('common.title')}\n{I18N('common.subtitle')}")
        banner = gr.Markdown(elem_id="weights-banner")
        with gr.Row():
            image = gr.Image(
                label=I18N("common.image"),
                type="filepath",
                sources=["upload", "webcam", "clipboard"],
                height=300,
                elem_id="photo",
            )
        page = Page(image=image)
        gr.Examples(examples=EXAMPLES, inputs=image, label=I18N("common.examples"))
        with gr.Tabs():
            build_classify_tab(page)
            build_aux_tab(page)
        blocks.load(weights_banner, outputs=banner, api_visibility="private")
    return blocks


demo = build_demo()


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    from googlenet.cli import add_weights_options

    parser = argparse.ArgumentParser(description="GoogLeNet Explorer web app")
    add_weights_options(parser)
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to bind (default 127.0.0.1; use 0.0.0.0 only where the host requires it)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link (off by default)")
    parser.add_argument("--inbrowser", action="store_true", help="open a browser tab")
    parser.add_argument("--aux-weights", metavar="FILE",
                        help="aux heads made by `python -m googlenet distill-aux` (default: $GOOGLENET_AUX_WEIGHTS)")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    configure(
        replace(
            _settings,
            weights=args.weights or _settings.weights,
            device=args.device or _settings.device,
            allow_download=_settings.allow_download and not args.no_download,
            require_pretrained=_settings.require_pretrained or args.require_pretrained,
            aux_weights=args.aux_weights or _settings.aux_weights,
        )
    )
    engine = get_engine()  # load now: fail fast, and the first request is not slow
    get_aux_heads()  # aux heads (and --aux-weights) are loaded before serving, never while requests run
    log.info("weights: %s; device: %s", engine.weights.description, engine.device_name)
    demo.queue(default_concurrency_limit=4, max_size=64).launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        inbrowser=args.inbrowser,
        show_error=False,
        i18n=I18N,
    )


if __name__ == "__main__":
    main()
