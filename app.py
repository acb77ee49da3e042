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
