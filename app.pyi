"""GoogLeNet Explorer: the Gradio page. Layout, event wiring and thin adapters only.

All tensor work lives in the ``googlenet`` package; all visible text lives in ``ui_strings``. Shared objects (the
:class:`~googlenet.inference.Engine` and its models) are read-only; per-user state lives in ``gr.State``.

Run ``python app.py --help`` for options. ``demo`` is module-level so that ``gradio app.py`` and Hugging Face Spaces
find it.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import logging
import mimetypes
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional, Sequence

import gradio as gr
from gradio import processing_utils
from gradio.data_classes import ImageData

from googlenet.images import ImageInputError, ImageNotice
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
    """Turn a problem the user can fix into a message on the page (and for API clients), in the user's language.

    Image problems carry a ui_strings key and its values (googlenet.images.ImageInputError); others show as is.
    """
    log.info("rejected input: %s", exc)
    if isinstance(exc, ImageInputError):
        return gr.Error(tr(exc.key, lang, **exc.params), print_exception=False)
    return gr.Error(str(exc), print_exception=False)


def notices_text(notices: Sequence[ImageNotice], lang: str) -> str:
    """Notices about an input that loaded fine (animated, tiny, elongated), one Markdown line each."""
    return "".join(f"\n\nℹ️ {tr(n.key, lang, **n.params)}" for n in notices)


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
# Limits and safety (issue 6)
# ---------------------------------------------------------------------------------------------------------------

#: concurrency_id for expensive events (attributions, anything doing many forward/backward passes): all events in
#: this group share ONE limit (Limits.heavy), so two different heavy tabs cannot together overload the machine.
HEAVY = "heavy"

#: Every 30 minutes, delete uploads and rendered results older than an hour (Gradio's cache), so that disk use stays
#: flat however long the app runs. An hour is long enough for a user to explore one photo across every tab.
DELETE_CACHE: tuple[int, int] = (1800, 3600)

#: Set to 1 to add the /debug_model_fingerprint endpoint (used by bench/load_test.py). Off by default.
DEBUG_ENDPOINTS_ENV = "GOOGLENET_DEBUG_ENDPOINTS"


@dataclass(frozen=True)
class Limits:
    """How much work the server accepts at once. Chosen per device; see README "Limits and safety".

    - ``light``: concurrent runs *per endpoint* for cheap events (one forward pass, e.g. /classify). On CPU, PyTorch
      already spreads one forward pass over every core, so more than 2 at a time only time-slices the same cores
      and adds memory; 2 lets one request's decoding/preprocessing overlap another's forward pass. On a GPU the
      kernels are short and the CPU-side work dominates, so 8 keep it busy.
    - ``heavy``: concurrent runs *shared by all* events with ``concurrency_id=HEAVY`` (attributions). One on CPU
      (each already saturates the cores and holds the activations of many passes); two on a GPU (memory).
    - ``queue_size``: requests waiting beyond that get Gradio's "queue is full" at once instead of a long wait.
    - ``max_upload_mb``: larger uploads are refused by the upload route itself with HTTP 413, before our code.
    """

    light: int
    heavy: int
    queue_size: int = 64
    max_upload_mb: int = 20

    @classmethod
    def for_device(cls, device_type: str, *, queue_size: int = 64, max_upload_mb: int = 20) -> "Limits":
        if device_type == "cuda":
            return cls(light=8, heavy=2, queue_size=queue_size, max_upload_mb=max_upload_mb)
        if device_type == "mps":
            return cls(light=4, heavy=1, queue_size=queue_size, max_upload_mb=max_upload_mb)
        return cls(light=2, heavy=1, queue_size=queue_size, max_upload_mb=max_upload_mb)


def apply_limits(blocks: gr.Blocks, limits: Limits) -> gr.Blocks:
    """Set the queue and per-event concurrency on an already built page (the device is known only at launch).

    Events without an explicit ``concurrency_limit`` get ``limits.light`` each; events in the HEAVY group share
    ``limits.heavy``. Gradio creates each event's queue lazily on its first request, so this must run before
    ``launch()``.
    """
    for fn in blocks.fns.values():
        if fn.concurrency_id == HEAVY:
            fn.concurrency_limit = limits.heavy
    return blocks.queue(default_concurrency_limit=limits.light, max_size=limits.queue_size)


def default_host() -> str:
    """127.0.0.1 (this machine only) unless the host requires all interfaces: Hugging Face Spaces sets SPACE_ID."""
    if os.environ.get("GRADIO_SERVER_NAME"):
        return os.environ["GRADIO_SERVER_NAME"]
    return "0.0.0.0" if os.environ.get("SPACE_ID") else "127.0.0.1"

from gradio.events import Dependency

class PhotoInput(gr.Image):
    """``gr.Image`` (type="filepath") whose preprocess hands over the uploaded file's path WITHOUT decoding it.

    Why: ``gr.Image.preprocess`` opens every upload with PIL (and converts it when the mode differs) before our
    function runs, so a decompression bomb, a corrupt file or a non-image failed inside Gradio with a generic
    error. Here the file goes untouched to ``googlenet.images.load_image`` (via the engine), which checks the
    declared size from the header before decoding and answers with a clear message. Upload, webcam, clipboard,
    examples and gradio_client's ``handle_file`` all arrive as a file in Gradio's cache (Gradio checks that the
    path is one it created); a base64 ``data:`` URL is saved to the cache as bytes, still undecoded.
    """

    def get_block_name(self) -> str:  # the browser side is the stock Image component
        return "image"

    def get_block_class(self) -> str:
        return "image"

    def preprocess(self, payload: Optional[ImageData]) -> Optional[str]:
        if payload is None:
            return None
        if payload.url and payload.url.startswith("data:"):
            header, _, encoded = payload.url.partition(",")
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:  # no request here to pick a language: English
                raise gr.Error(tr("errors.corrupt", "en", format="data URL"), print_exception=False) from exc
            extension = mimetypes.guess_extension(header[5:].split(";")[0]) or ""
            return processing_utils.save_bytes_to_cache(data, f"photo{extension or '.img'}", self.GRADIO_CACHE)
        if payload.path is None:
            raise gr.Error(tr("errors.file_gone", "en"), print_exception=False)
        return str(payload.path)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


def debug_model_fingerprint() -> dict:
    """Hashes and mode/hook counts of the shared models (only with GOOGLENET_DEBUG_ENDPOINTS=1; see bench/)."""
    from googlenet.integrity import engine_fingerprints

    return engine_fingerprints(get_engine())


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
    info += notices_text(result.notices, lang)
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
    with gr.Blocks(title="GoogLeNet Explorer", delete_cache=DELETE_CACHE) as blocks:
        gr.Markdown(f"# {I18N('common.title')}\n{I18N('common.subtitle')}")
        banner = gr.Markdown(elem_id="weights-banner")
        with gr.Row():
            image = PhotoInput(
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
        if _env_flag(DEBUG_ENDPOINTS_ENV):  # off by default: only the load test turns it on
            gr.api(debug_model_fingerprint, api_name="debug_model_fingerprint")
    return blocks


demo = build_demo()


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    from googlenet.cli import add_weights_options

    parser = argparse.ArgumentParser(description="GoogLeNet Explorer web app")
    add_weights_options(parser)
    parser.add_argument("--host", default=default_host(),
                        help="address to bind (default 127.0.0.1; 0.0.0.0 on Hugging Face Spaces, which requires it)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link (off by default)")
    parser.add_argument("--inbrowser", action="store_true", help="open a browser tab")
    parser.add_argument("--max-upload-mb", type=int, default=int(os.environ.get("GOOGLENET_MAX_UPLOAD_MB", "20")),
                        help="largest accepted upload in MB (larger ones get HTTP 413; default 20)")
    parser.add_argument("--queue-size", type=int, default=int(os.environ.get("GOOGLENET_QUEUE_SIZE", "64")),
                        help="requests that may wait in the queue before new ones are turned away (default 64)")
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
    limits = Limits.for_device(engine.device.type, queue_size=args.queue_size, max_upload_mb=args.max_upload_mb)
    log.info("limits: %s; binding %s", limits, args.host)
    apply_limits(demo, limits).launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,  # a public gradio.live link only when asked for
        inbrowser=args.inbrowser,
        show_error=False,  # internal exception texts and paths never reach clients (gr.Error messages still do)
        max_file_size=f"{limits.max_upload_mb}mb",
        i18n=I18N,
    )


if __name__ == "__main__":
    main()