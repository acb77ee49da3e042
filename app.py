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
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional, Sequence

# First: on Hugging Face ZeroGPU, `spaces` must be imported before torch (the googlenet package imports torch).
from zerogpu import ZEROGPU, gpu  # isort: skip

import gradio as gr

from googlenet.images import ImageInputError
from googlenet.inference import Classification, Engine
from googlenet.report import REPORT_FORMATS, ReportPieces, ReportText, render_report
from googlenet.weights import WeightsInfo, WeightsKind
from ui_strings import LANGUAGES, TRANSLATIONS, language_from_header, tr

log = logging.getLogger("googlenet.app")

ROOT = Path(__file__).resolve().parent
ASSETS = ROOT / "assets"
EXAMPLES: list[str] = sorted(str(p) for p in ASSETS.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})

I18N = gr.I18n(**TRANSLATIONS)


# ---------------------------------------------------------------------------------------------------------------
# Settings and the shared engine
# ---------------------------------------------------------------------------------------------------------------


def default_host() -> str:
    """127.0.0.1, except on Hugging Face Spaces (SPACE_ID set), whose proxy reaches the app on 0.0.0.0."""
    if os.environ.get("GRADIO_SERVER_NAME"):
        return os.environ["GRADIO_SERVER_NAME"]
    return "0.0.0.0" if os.environ.get("SPACE_ID") else "127.0.0.1"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """How the process loads its model. Read from the environment; ``python app.py`` flags override."""

    weights: Optional[str] = None
    device: Optional[str] = None
    allow_download: bool = True
    require_pretrained: bool = False

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            weights=os.environ.get("GOOGLENET_WEIGHTS") or None,
            device=os.environ.get("GOOGLENET_DEVICE") or None,
            allow_download=not _env_flag("GOOGLENET_NO_DOWNLOAD"),
            require_pretrained=_env_flag("GOOGLENET_REQUIRE_PRETRAINED"),
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
    return gr.Error(str(exc), title=tr("classroom.toast_error", lang), print_exception=False)


def require_image(image: Optional[str], lang: str) -> str:
    if not image:
        raise gr.Error(tr("common.no_image", lang), title=tr("classroom.toast_error", lang), print_exception=False)
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
    path = require_image(image, lang)
    try:
        result = classify_on_device(path)
    except ImageInputError as exc:
        raise user_error(exc, lang) from exc
    info = tr("classify.info", lang, weights=weights_text(result.weights, lang), device=result.device,
              ms=result.elapsed_ms)
    if result.weights.warning:
        info = f"**⚠️ {tr('classroom.weights_untrained', lang)}** · {info}"
    return result.as_label_dict(), result.crop, info, result.to_json()


@dataclass
class Page:
    """Components that several tabs share."""

    image: gr.Image
    examples: Optional[gr.Examples] = None  # tabs that react to a new photo chain on examples.load_input_event


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
        build_report_controls(page)
    outputs = [top5, crop, info, raw]
    page.image.upload(classify, inputs=page.image, outputs=outputs, api_name="classify")
    page.image.input(classify, inputs=page.image, outputs=outputs, api_visibility="private")
    if page.examples is not None:  # clicking an example fills the photo without an upload/input event
        page.examples.load_input_event.then(classify, inputs=page.image, outputs=outputs, api_visibility="private")


# ---------------------------------------------------------------------------------------------------------------
# Classroom: ZeroGPU entry point, weights status in words, about box, report export, CSS (issue 8)
# ---------------------------------------------------------------------------------------------------------------


@gpu
def classify_on_device(path: str) -> Classification:
    """The forward pass. On ZeroGPU this runs in a forked GPU worker: it returns CPU data only (PIL, numpy)."""
    return get_engine().classify(path)


def weights_text(info: WeightsInfo, lang: str) -> str:
    """The weights status in the reader's language."""
    if info.kind is WeightsKind.OFFICIAL:
        return tr("classroom.weights_official", lang)
    if info.kind is WeightsKind.CUSTOM:
        name = info.path.name if info.path is not None else "?"
        return tr("classroom.weights_custom", lang, name=name, sha=(info.sha256 or "?")[:8])
    return tr("classroom.weights_untrained", lang)


def report_text(lang: str) -> ReportText:
    return ReportText(
        title=tr("classroom.r_title", lang),
        photo=tr("classroom.r_photo", lang),
        created=tr("classroom.r_created", lang),
        prediction=tr("classroom.r_prediction", lang),
        crop=tr("classroom.r_crop", lang),
        branches=tr("classroom.r_branches", lang),
        attribution=tr("classroom.r_attribution", lang),
        weights=tr("classroom.r_weights", lang),
        missing_branches=tr("classroom.r_missing_branches", lang),
        missing_attribution=tr("classroom.r_missing_attribution", lang),
        attribution_note=tr("classroom.r_attribution_note", lang),
        footer=tr("classroom.r_footer", lang),
    )


REPORTS_DIR = Path(tempfile.gettempdir()) / "googlenet-explorer-reports"
REPORT_MAX_AGE_S = 3600.0


def _new_report_path(stem: str, fmt: str) -> Path:
    """A fresh folder per report (so the download keeps a readable name); reports older than an hour go."""
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in REPORTS_DIR.iterdir():
        try:
            if now - old.stat().st_mtime > REPORT_MAX_AGE_S:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:  # another request removed it first
            pass
    folder = Path(tempfile.mkdtemp(dir=REPORTS_DIR))
    safe_stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:60] or "photo"
    return folder / f"googlenet-report-{safe_stem}.{fmt}"


def export_report(
    image: Optional[str],
    fmt: Optional[str] = "png",
    branch_overview: Any = None,
    attribution: Any = None,
    attribution_caption: Optional[str] = None,
    request: gr.Request = None,
) -> str:
    """A one-page PNG/PDF report of the photo's analysis; returns the file's path.

    The prediction is recomputed here (one fast forward pass) so the endpoint also works on its own through the
    API. ``branch_overview`` / ``attribution`` take images already shown by other tabs (wire their gr.Image
    outputs as extra inputs); when absent the report says they were not computed.
    """
    lang = request_language(request)
    path = require_image(image, lang)
    fmt = (fmt or "png").strip().lower()
    if fmt not in REPORT_FORMATS:
        raise gr.Error(tr("classroom.report_bad_format", lang, fmt=fmt), title=tr("classroom.toast_error", lang),
                       print_exception=False)
    try:
        result = classify_on_device(path)
    except ImageInputError as exc:
        raise user_error(exc, lang) from exc
    pieces = ReportPieces(
        top=result.top,
        crop=result.crop,
        weights=weights_text(result.weights, lang),
        weights_warning=tr("classroom.weights_untrained", lang) if result.weights.warning else None,
        device=result.device,
        photo_name=Path(path).name,
        branch_overview=branch_overview,
        attribution=attribution,
        attribution_caption=attribution_caption,
    )
    out = _new_report_path(Path(path).stem, fmt)
    out.write_bytes(render_report(pieces, report_text(lang), fmt=fmt))
    log.info("report written: %s", out)
    return str(out)


def build_classroom_intro() -> None:
    """What GoogLeNet is and how to read the page, folded under the title (a teacher opens it to present)."""
    with gr.Accordion(I18N("classroom.about"), open=False, elem_id="about"):
        gr.Markdown(I18N("classroom.about_text"))
        gr.Markdown(I18N("classroom.howto"))


def build_report_controls(page: Page) -> None:
    """Export report: format choice, button, file. Endpoint /report."""
    with gr.Row(equal_height=True, elem_id="report-row"):
        with gr.Column(scale=2, min_width=240):
            gr.Markdown(I18N("classroom.report_explain"))
            fmt = gr.Radio(choices=[("PNG", "png"), ("PDF", "pdf")], value="png",
                           label=I18N("classroom.report_format"), elem_id="report-format")
            button = gr.Button(I18N("classroom.report"), variant="secondary", elem_id="report-button")
        report_file = gr.File(label=I18N("classroom.report_file"), interactive=False, elem_id="report-file",
                              scale=1, min_width=240)
    button.click(export_report, inputs=[page.image, fmt], outputs=report_file, api_name="report")


def _toast_title_css() -> str:
    """Gradio 6's toasts head every message with its type in English ("Error", ignoring gr.Error(title=...)).
    The front end sets <html lang> to the browser's locale, so CSS can swap in the translated heading."""
    rules = []
    for lang in LANGUAGES:
        if lang == "en":
            continue
        for kind in ("error", "warning", "info", "success"):
            text = tr(f"classroom.toast_{kind}", lang).replace('"', "")
            rules.append(f'html:lang({lang}) .toast-title.{kind} {{ font-size: 0 !important; }}\n'
                         f'html:lang({lang}) .toast-title.{kind}::before {{ content: "{text}"; '
                         f'font-size: var(--text-lg); }}')
    return "\n".join(rules)


# Readable on a projector (1280x720) and a phone (390x844): larger body text, and side margins that shrink on small
# screens. Gradio copies top-level rules as they are but scopes rules inside @media to its ".contain" element, so
# the page margin (on an outer element) uses clamp() instead of a media query.
CSS = """
.gradio-container { font-size: 16px; }
.main.fillable { padding-left: clamp(8px, 2.5vw, 32px) !important; padding-right: clamp(8px, 2.5vw, 32px) !important; }
#top5 .output-class { font-size: 1.6rem; }
@media (max-width: 600px) {
  h1 { font-size: 1.6rem !important; }
}
""" + _toast_title_css()


# ---------------------------------------------------------------------------------------------------------------
# Page
# ---------------------------------------------------------------------------------------------------------------


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="GoogLeNet Explorer") as blocks:
        # One I18N key per Markdown: Gradio's front end translates only the first key embedded in a string.
        gr.Markdown(f"# {I18N('common.title')}")
        gr.Markdown(I18N("common.subtitle"))
        build_classroom_intro()
        banner = gr.Markdown(elem_id="weights-banner")
        with gr.Row():
            image = gr.Image(
                label=I18N("common.image"),
                type="filepath",
                sources=["upload", "webcam", "clipboard"],
                height=300,
                elem_id="photo",
            )
        # Examples only fill in the photo; clicking one fires no upload/input event, so tabs chain their work on
        # page.examples.load_input_event. No caching: nothing runs at start-up (no GPU needed on ZeroGPU), and
        # cached results would freeze server-written text in the first visitor's language.
        examples = gr.Examples(examples=EXAMPLES, inputs=image, label=I18N("common.examples"), cache_examples=False)
        page = Page(image=image, examples=examples)
        with gr.Tabs():
            build_classify_tab(page)
        blocks.load(weights_banner, outputs=banner, api_visibility="private")
    return blocks


demo = build_demo()


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    from googlenet.cli import add_weights_options

    parser = argparse.ArgumentParser(description="GoogLeNet Explorer web app")
    add_weights_options(parser)
    parser.add_argument("--host", default=default_host(),
                        help="address to bind (default 127.0.0.1, or 0.0.0.0 on Hugging Face Spaces where the "
                             "proxy needs it; use 0.0.0.0 elsewhere only where the host requires it)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link (off by default)")
    parser.add_argument("--inbrowser", action="store_true", help="open a browser tab")
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
        )
    )
    engine = get_engine()  # load now: fail fast, and the first request is not slow
    log.info("weights: %s; device: %s", engine.weights.description, engine.device_name)
    if ZEROGPU:
        log.info("ZeroGPU: GPU work runs under spaces.GPU")
    # max_size explicit: on ZeroGPU Gradio would otherwise default it to 1 (a second visitor gets "queue full").
    demo.queue(default_concurrency_limit=4, max_size=64).launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        inbrowser=args.inbrowser,
        show_error=False,
        i18n=I18N,
        css=CSS,
    )


if __name__ == "__main__":
    main()
