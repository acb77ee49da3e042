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
import functools
import io
import logging
import mimetypes
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

# First: on Hugging Face ZeroGPU, `spaces` must be imported before torch (the googlenet package imports torch).
from zerogpu import ZEROGPU, gpu  # isort: skip

import gradio as gr
import pandas as pd
from gradio import processing_utils
from gradio.data_classes import ImageData

from googlenet import BRANCHES, INCEPTION_MODULES
from googlenet import attributions as attr_lib
from googlenet import render_attributions as attr_render
from googlenet.activations import Capture, Measure, capture, overview_shares
from googlenet.aux_heads import AuxHeads, AuxHeadsInfo, AuxHeadsStatus, AuxOptions, AuxResult
from googlenet.branch_facts import module_facts
from googlenet.figures import use_style_globally
from googlenet.images import ImageInputError, ImageNotice
from googlenet.inference import PRECISIONS, Classification, Engine, select_device
from googlenet.labels import CATEGORIES, category_index
from googlenet.memory import limit_arenas, release_free_memory_soon
from googlenet.model import branch_display_name, module_display_name
from googlenet.render_aux_heads import ChartText, render_head_charts
from googlenet.render_branches import BranchText, render_views, top_channels
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
    precision: str = "auto"  # googlenet.inference.PRECISIONS, for /classify (Engine.logits) only

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            weights=os.environ.get("GOOGLENET_WEIGHTS") or None,
            device=os.environ.get("GOOGLENET_DEVICE") or None,
            allow_download=not _env_flag("GOOGLENET_NO_DOWNLOAD"),
            require_pretrained=_env_flag("GOOGLENET_REQUIRE_PRETRAINED"),
            aux_weights=os.environ.get("GOOGLENET_AUX_WEIGHTS") or None,
            precision=os.environ.get("GOOGLENET_PRECISION") or "auto",
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
                precision=_settings.precision,
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
    title = tr("classroom.toast_error", lang)
    if isinstance(exc, ImageInputError):
        return gr.Error(tr(exc.key, lang, **exc.params), title=title, print_exception=False)
    return gr.Error(str(exc), title=title, print_exception=False)


def notices_text(notices: Sequence[ImageNotice], lang: str) -> str:
    """Notices about an input that loaded fine (animated, tiny, elongated), one Markdown line each."""
    return "".join(f"\n\nℹ️ {tr(n.key, lang, **n.params)}" for n in notices)


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


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees a partial file.

    Gradio's cache is content-addressed (the folder is the hash of the bytes), so an existing file of the right
    size already holds exactly these bytes and is left alone (only touched, so delete_cache ages it from now).
    """
    try:
        if path.stat().st_size == len(data):
            os.utime(path)
            return
    except FileNotFoundError:
        pass
    fd, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(staging, path)  # atomic: readers see the old complete file or the new complete file
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


# WebP encoder settings for output images: libwebp's fastest method. Gradio's default (method 4, quality 80) took
# 130 ms for one 1240x678 branch figure on a 2-core CPU, about a fifth of the branch view; method 0 at quality 90
# takes 30 ms for a file under 1.5x the size, and keeps figure text sharper.
WEBP_OPTIONS = {"method": 0, "quality": 90}


def _encode_pil(img: Any, format: str) -> bytes:
    """Gradio's ``encode_pil_to_bytes``, with the fast WebP settings above (EXIF kept, as Gradio does)."""
    if format.lower() != "webp":
        return processing_utils.encode_pil_to_bytes(img, format)
    with io.BytesIO() as buffer:
        exif = processing_utils.get_pil_exif_bytes(img)
        img.save(buffer, format, **WEBP_OPTIONS, **({"exif": exif} if exif else {}))
        return buffer.getvalue()


def _save_pil_to_cache(img: Any, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Gradio's ``save_pil_to_cache`` (same path), written atomically, WebP encoded fast."""
    data = _encode_pil(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / f"{name}.{format}").resolve()
    _write_atomically(path, data)
    return str(path)


def _save_bytes_to_cache(data: bytes, file_name: str, cache_dir: str) -> str:
    """Gradio's ``save_bytes_to_cache`` (same path), written atomically."""
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    if not Path(file_name).suffix:
        file_name += processing_utils.detect_audio_format(data)
    path = (folder / Path(file_name).name).resolve()
    _write_atomically(path, data)
    return str(path)


def install_atomic_cache_writes() -> None:
    """Make Gradio's cache writes for image outputs atomic (found by bench/load_test.py).

    Gradio 6.31 names a rendered output image by the hash of its bytes and REWRITES the file in place on every
    request (``Path.write_bytes``: truncate, then write). When two users get the same picture at the same time (a
    class clicking the same example photo), one user's browser can be downloading the file while the other
    request truncates it: the download fails ("Too little data for declared Content-Length") and the image is
    missing. Gradio already writes copied files atomically (``save_file_to_cache``); this does the same for
    PIL images and bytes. Same signature, same paths; every tab's image outputs go through it.
    """
    processing_utils.save_pil_to_cache = _save_pil_to_cache
    processing_utils.save_bytes_to_cache = _save_bytes_to_cache


install_atomic_cache_writes()
use_style_globally()  # figures are drawn in several threads at once (requests, render_views): see googlenet/figures


def debug_model_fingerprint() -> dict:
    """Hashes and mode/hook counts of the shared models (only with GOOGLENET_DEBUG_ENDPOINTS=1; see bench/)."""
    from googlenet.integrity import engine_fingerprints

    return engine_fingerprints(get_engine())


def releases_memory(fn: Callable) -> Callable:
    """After the event (answer or error), hand the memory its passes freed back to the OS (googlenet.memory), on a
    background thread so the answer is not delayed.

    Attributions, branch figures, train-mode passes and reports allocate tens to hundreds of MB per request in
    Gradio's worker threads; without this the server's RSS kept every peak (2.3 GB after a burst of attributions)."""

    @functools.wraps(fn)  # keeps the signature: Gradio reads it for the request/progress parameters
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            return fn(*args, **kwargs)
        finally:
            release_free_memory_soon()

    return wrapper


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
    return classify_outputs(result, lang)


def classify_outputs(result: Classification, lang: str) -> tuple[dict[str, float], Any, str, dict]:
    """The four outputs of /classify for one result: label dict, crop, summary line, raw JSON."""
    info = tr("classify.info", lang, weights=weights_text(result.weights, lang), device=result.device,
              ms=result.elapsed_ms)
    if result.weights.warning:
        info = f"**⚠️ {tr('classroom.weights_untrained', lang)}** · {info}"
    info += notices_text(result.notices, lang)
    return result.as_label_dict(), result.crop, info, result.to_json()


def _classify_auto(image: Optional[str], request: gr.Request = None):
    """The page's photo changed: classify it, or clear the results when the photo was removed."""
    if not image:
        return None, None, "", None
    return classify(image, request)


CLASSIFY_MAX_BATCH = 32  # a batch of 32 is one ~10 ms forward on a large GPU, still quick to fill under load
CLASSIFY_BATCH_ENV = "GOOGLENET_CLASSIFY_BATCH"  # "1": batch on any device (tests), "0": never


def classify_batching() -> bool:
    """Dynamic batching of /classify pays only on CUDA (a CPU forward is linear in the batch): on when the
    configured device is CUDA, unless GOOGLENET_CLASSIFY_BATCH says otherwise."""
    forced = os.environ.get(CLASSIFY_BATCH_ENV, "").strip()
    if forced in {"0", "1"}:
        return forced == "1"
    try:
        return select_device(_settings.device).type == "cuda"
    except RuntimeError:
        return False


def classify_batched(images: list[Optional[str]], request: gr.Request = None) -> tuple[list, list, list, list]:
    """/classify with batch=True: lists in, one list per output. One bad photo must not fail the other users'
    requests in its batch, so a failure becomes that request's own answer (an empty label and the message)."""
    lang = request_language(request)  # Gradio passes the first request of the batch
    engine = get_engine()
    answers: list[tuple] = []
    try:
        results: list[Any] = engine.classify_batch([require_image(image, lang) for image in images])
    except (ImageInputError, gr.Error):
        results = []
        for image in images:  # rare: find which one failed, answer the others normally
            try:
                results.append(engine.classify(require_image(image, lang)))
            except (ImageInputError, gr.Error) as exc:
                results.append(exc)
    for result in results:
        if isinstance(result, Exception):
            error = user_error(result, lang) if isinstance(result, ImageInputError) else result
            message = str(getattr(error, "message", error))
            answers.append(({}, None, f"**{message}**", {"error": message}))
            continue
        answers.append(classify_outputs(result, lang))
    return tuple(list(column) for column in zip(*answers))  # type: ignore[return-value]


@dataclass
class Page:
    """Components that several tabs share."""

    image: gr.Image
    examples: Optional[gr.Examples] = None
    # Set by the tabs as they are built; the report (built in the classify tab) reads them: see wire_report().
    report_controls: Optional[tuple[gr.Radio, gr.Button, gr.File]] = None
    branch_overview: Optional[gr.Image] = None
    attribution_figure: Optional[gr.Image] = None


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
        # The page classifies on every change of the photo (upload, webcam, paste, example click: one event
        # each); API clients call /classify, carried by this hidden trigger so it rejects a missing image clearly.
        api_trigger = gr.Button(visible=False)
    outputs = [top5, crop, info, raw]
    if classify_batching():
        # Dynamic batching (GPU): concurrent /classify requests waiting in the queue go through ONE forward pass.
        # Same api_name, same inputs/outputs per request: Gradio splits the batch back per user.
        api_trigger.click(classify_batched, inputs=page.image, outputs=outputs, api_name="classify", batch=True,
                          max_batch_size=CLASSIFY_MAX_BATCH)
    else:
        api_trigger.click(classify, inputs=page.image, outputs=outputs, api_name="classify")
    page.image.change(_classify_auto, inputs=page.image, outputs=outputs, api_visibility="private")


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


@releases_memory
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
# Inception branches tab (issue 3)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchSession:
    """Per-user state: one photo's capture of all 36 branch outputs, and the crop they came from."""

    capture: Capture
    crop: Any  # PIL image, 224 x 224


def _branch_text(lang: str) -> BranchText:
    prefix = "branches.fig."
    return BranchText.from_mapping({f.name: tr(prefix + f.name, lang) for f in dataclass_fields(BranchText)})


def _n(value: int) -> str:
    return f"{value:,}"


def _branch_facts_markdown(session: BranchSession, module: str, lang: str) -> str:
    engine = get_engine()
    shape = next(s.shape for s in session.capture.layer_shapes if s.name == f"{module}.branch1")
    facts = module_facts(engine.reference, module, (shape[1], shape[2]))
    rows = [tr("branches.facts_header", lang)]
    for b in facts.branches:
        rows.append(tr("branches.facts_row", lang, branch=branch_display_name(b.branch), layers=" → ".join(b.layers),
                       channels=b.out_channels, rf=b.receptive_field, params=_n(b.parameters),
                       macs=_n(b.mult_adds)))
    b2, b3 = facts.branches[1], facts.branches[2]
    macs_saved = (b2.mult_adds_without_reduction - b2.mult_adds) + (b3.mult_adds_without_reduction - b3.mult_adds)
    parts = " + ".join(str(b.out_channels) for b in facts.branches)
    return "\n\n".join([
        tr("branches.facts_summary", lang, module=module_display_name(module), in_channels=facts.in_channels,
           h=facts.spatial[0], w=facts.spatial[1], out_channels=facts.out_channels, parts=parts,
           params=_n(facts.parameters), macs=_n(facts.mult_adds)),
        "\n".join(rows),
        tr("branches.facts_reduction", lang, in_channels=facts.in_channels, with3=_n(b2.parameters),
           without3=_n(b2.parameters_without_reduction), saved3=_n(b2.parameters_saved), with5=_n(b3.parameters),
           without5=_n(b3.parameters_without_reduction), saved5=_n(b3.parameters_saved), macs_saved=_n(macs_saved)),
        tr("branches.facts_kernel", lang, k=facts.branch3_kernel, paper=_n(b3.parameters_with_paper_kernel),
           actual=_n(b3.parameters)),
        tr("branches.facts_rf", lang),
    ])


def _branch_views(session: BranchSession, module: str, measure: str, n_channels: float, scale: str, lang: str):
    """Everything the tab shows, drawn from a stored capture (no forward pass here)."""
    if module not in INCEPTION_MODULES:
        raise gr.Error(f"unknown module {module!r}; choose one of {', '.join(INCEPTION_MODULES)}",
                       print_exception=False)
    try:
        measure = Measure(measure)
    except ValueError:
        raise gr.Error(f"unknown measure {measure!r}; choose one of {', '.join(m.value for m in Measure)}",
                       print_exception=False) from None
    if scale not in ("shared", "per_branch"):
        raise gr.Error("scale must be 'shared' or 'per_branch'", print_exception=False)
    n = max(1, min(16, int(n_channels or 8)))
    text = _branch_text(lang)
    shared = scale == "shared"
    cap = session.capture
    shares = overview_shares(cap, measure)
    figures = render_views(cap, module, session.crop, shares, tr(f"branches.measure.{measure.value}", lang), n,
                           shared, text)
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
            r[0].branch: [{"index": c.index, "global_index": c.global_index, "mean_activation": c.mean_activation}
                          for c in r]
            for r in top_channels(cap, module, n)
        },
        "input_size": list(cap.input_size),
    }
    return (figures.overview, figures.heatmaps, figures.channels, _branch_facts_markdown(session, module, lang),
            shapes, raw)


@gpu
def capture_on_device(path: str) -> BranchSession:
    """The forward pass of the branch explorer. On ZeroGPU this runs in a forked GPU worker: it returns CPU data
    only (numpy arrays and a PIL image)."""
    engine = get_engine()
    crop, x = engine.prepare(path)
    return BranchSession(capture(engine.fast, x), crop)


def _capture_branches(image: Optional[str], lang: str) -> BranchSession:
    try:
        return capture_on_device(require_image(image, lang))
    except ImageInputError as exc:
        raise user_error(exc, lang) from exc


@releases_memory
def branches(image: Optional[str], module: str = "inception4a", measure: str = "activation_sum",
             n_channels: float = 8, scale: str = "shared", request: gr.Request = None):
    """One forward pass of the photo, then every view of the branch explorer (and the capture, kept per user)."""
    lang = request_language(request)
    session = _capture_branches(image, lang)
    return (*_branch_views(session, module, measure, n_channels, scale, lang), session)


def _branches_auto(image: Optional[str], module: str, measure: str, n_channels: float, scale: str,
                   request: gr.Request = None):
    """A new photo on the page: capture and draw; a cleared photo clears the views."""
    if not image:
        return None, None, None, "", None, None, None
    return branches(image, module, measure, n_channels, scale, request)


@releases_memory
def branches_rerender(session: Optional[BranchSession], module: str, measure: str, n_channels: float, scale: str,
                      request: gr.Request = None):
    """Another module, measure, channel count or scale: re-draw from the stored capture, no forward pass."""
    if session is None:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    return _branch_views(session, module, measure, n_channels, scale, request_language(request))


def build_branches_tab(page: Page) -> None:
    modules = [(module_display_name(m), m) for m in INCEPTION_MODULES]
    measures = [(I18N(f"branches.measure.{m.value}"), m.value) for m in Measure]
    scales = [(I18N("branches.scale.shared"), "shared"), (I18N("branches.scale.per_branch"), "per_branch")]
    with gr.Tab(I18N("branches.tab"), id="branches"):
        gr.Markdown(I18N("branches.intro"))
        state = gr.State(time_to_live=3600)  # the capture: ~2.5 MB of float16 per user, dropped after an hour
        with gr.Row():
            module = gr.Dropdown(modules, value="inception4a", label=I18N("branches.module"), elem_id="br-module")
            measure = gr.Radio(measures, value="activation_sum", label=I18N("branches.measure"),
                               elem_id="br-measure")
            n_channels = gr.Slider(1, 16, value=8, step=1, label=I18N("branches.channels"), elem_id="br-n")
            scale = gr.Radio(scales, value="shared", label=I18N("branches.scale"), elem_id="br-scale")
        run = gr.Button(I18N("branches.run"), variant="primary", elem_id="br-run")
        overview = gr.Image(label=I18N("branches.overview"), type="pil", interactive=False, elem_id="br-overview")
        page.branch_overview = overview
        gr.Markdown(I18N("branches.measure_note"))
        heatmaps = gr.Image(label=I18N("branches.heatmaps"), type="pil", interactive=False, elem_id="br-heatmaps")
        channels = gr.Image(label=I18N("branches.channels_grid"), type="pil", interactive=False,
                            elem_id="br-channels")
        with gr.Accordion(I18N("branches.facts"), open=True):
            facts = gr.Markdown(elem_id="br-facts")
        with gr.Accordion(I18N("branches.shapes"), open=False):
            shapes = gr.Dataframe(headers=[I18N("branches.shapes_header_layer"),
                                           I18N("branches.shapes_header_shape")], interactive=False,
                                  elem_id="br-shapes")
        with gr.Accordion(I18N("branches.raw"), open=False):
            raw = gr.JSON(elem_id="br-json")
    controls = [module, measure, n_channels, scale]
    views = [overview, heatmaps, channels, facts, shapes, raw]
    run.click(branches, inputs=[page.image, *controls], outputs=[*views, state], api_name="branches")
    page.image.change(_branches_auto, inputs=[page.image, *controls], outputs=[*views, state],
                      api_visibility="private")
    for control in (module, measure, scale):
        control.change(branches_rerender, inputs=[state, *controls], outputs=views, api_visibility="private")
    n_channels.release(branches_rerender, inputs=[state, *controls], outputs=views, api_visibility="private")


# ---------------------------------------------------------------------------------------------------------------
# Attributions tab (issue 4)
# ---------------------------------------------------------------------------------------------------------------

_attributor: Optional[attr_lib.Attributor] = None
_attributor_engine: Optional[Engine] = None
_attributor_lock = threading.Lock()
ATTR_TOP1 = "top1"  # the target dropdown's "top-1 class" choice
ATTR_CONCURRENCY = 2  # attributions running at once (each holds one private replica of the model)
ATTR_FAITH_STEPS = 10  # deletion/insertion curves: 11 points each (0 %, 10 %, ... 100 % of the pixels)


def get_attributor() -> attr_lib.Attributor:
    """The attributor for the current engine: private replicas of its fast model (never hooks on the shared one)."""
    global _attributor, _attributor_engine
    engine = get_engine()
    with _attributor_lock:
        if _attributor is None or _attributor_engine is not engine:
            _attributor = attr_lib.Attributor.for_engine(engine, pool_size=ATTR_CONCURRENCY)
            _attributor_engine = engine
        return _attributor


def _attr_target(target: Optional[str | int], lang: str) -> Optional[int]:
    """"top1"/empty -> None (the top-1 class); otherwise an index, "281", "281: tabby" or "tabby"."""
    if target is None or str(target).strip() in ("", ATTR_TOP1):
        return None
    try:
        return category_index(target if isinstance(target, int) else str(target))
    except ValueError as exc:
        raise user_error(exc, lang) from exc


def _attr_settings(method: str, preset: str, layer: str, baseline: str, steps: Optional[float],
                   window: Optional[float], stride: Optional[float]) -> attr_lib.AttributionSettings:
    return attr_lib.AttributionSettings(
        method=method, preset=preset, layer=layer or "inception4e", baseline=baseline or "black",
        steps=int(steps) if steps else None, window=int(window) if window else None,
        stride=int(stride) if stride else None, internal_batch_size=attr_lib.batch_size_for(get_engine().device),
    )


def _attr_prepare(image: Optional[str], lang: str):
    """(crop, input tensor) of the shared photo, with input errors turned into messages."""
    try:
        return get_engine().prepare(require_image(image, lang))
    except ImageInputError as exc:
        raise user_error(exc, lang) from exc


def _attr_text(lang: str) -> attr_render.FigureText:
    return attr_render.FigureText.from_mapping(
        {f: tr(f"attributions.fig.{f}", lang) for f in attr_render.FigureText.__dataclass_fields__}
    )


def _attr_progress(progress: gr.Progress, lang: str, what: str) -> attr_lib.ProgressCallback:
    """Forward the attributor's own step counts to the page's progress bar, labelled in the user's language."""
    def report(fraction: float, desc: str) -> None:
        progress(fraction, desc=tr("attributions.progress", lang, what=what))

    return report


def _attr_name(method: str, lang: str) -> str:
    return tr(f"attributions.method.{method}", lang)


def _attr_caption(result: attr_lib.AttributionResult, lang: str) -> str:
    f = result.faithfulness
    if f is None:
        return ""
    return tr("attributions.caption", lang, score=f.score, ins=f.insertion_auc, dele=f.deletion_auc)


def attribution_cost(image: Optional[str], method: str, preset: str, layer: str, baseline: str, steps: float,
                     window: float, stride: float, budget: float, request: gr.Request = None) -> str:
    """The declared cost (and time estimate) of the chosen settings, shown before running."""
    lang = request_language(request)
    try:
        settings = _attr_settings(method, preset, layer, baseline, steps, window, stride)
        attributor = get_attributor()
        attributor.throughput()  # measured once per process, so the estimate below has seconds
        plan = attributor.fit_to_budget(settings, budget or None,
                                        extra=attr_lib.faithfulness_cost(ATTR_FAITH_STEPS))
    except attr_lib.AttributionError as exc:  # includes BudgetExceeded: shown where the cost would be
        return f"⚠️ {exc}"
    method_cost = attr_lib.declared_cost(plan.settings)  # plan.cost also counts the faithfulness passes
    text = tr("attributions.cost_text", lang, fwd=method_cost.forward, bwd=method_cost.backward,
              faith=2 * (ATTR_FAITH_STEPS + 1), seconds=plan.seconds)
    if plan.note:
        text += "\n\n" + tr("attributions.cost_note", lang, note=plan.note)
    return text


@releases_memory
def attribute(image: Optional[str], method: str, target: Optional[str], preset: str, layer: str, display: str,
              baseline: str, budget: float, steps: float, window: float, stride: float,
              request: gr.Request = None, progress: gr.Progress = gr.Progress()) -> tuple[Any, str, dict]:
    """One attribution map over the crop (with its deletion/insertion curves), a summary, and the numbers."""
    lang = request_language(request)
    crop, x = _attr_prepare(image, lang)
    absolute = display == "absolute"
    try:
        result = get_attributor().attribute(
            x, _attr_settings(method, preset, layer, baseline, steps, window, stride), _attr_target(target, lang),
            budget_s=budget or None, faithfulness_steps=ATTR_FAITH_STEPS, absolute_ranking=absolute,
            progress=_attr_progress(progress, lang, _attr_name(method, lang) if method in attr_lib.METHODS else ""),
        )
    except attr_lib.AttributionError as exc:
        raise user_error(exc, lang) from exc
    name = _attr_name(result.settings.method, lang)
    if result.settings.method in attr_lib.LAYER_METHODS:
        name += f" · {attr_lib.module_display_name(result.settings.layer)}"
    title = f"{name} → {result.target}: {CATEGORIES[result.target]}"
    figure = attr_render.render_attribution(crop, result.map, absolute=absolute, title=title,
                                            caption=_attr_caption(result, lang), faithfulness=result.faithfulness,
                                            text=_attr_text(lang))
    summary = tr("attributions.summary", lang, method=name, index=result.target, name=CATEGORIES[result.target],
                 fwd=result.cost.forward, bwd=result.cost.backward, seconds=result.elapsed_s)
    if result.faithfulness is not None:
        summary += "\n\n" + _attr_caption(result, lang)
    if result.convergence_delta is not None:
        summary += "\n\n" + tr("attributions.delta", lang, delta=result.convergence_delta,
                                total=float(result.map.sum()),
                                diff=result.target_logit - result.baseline_logit)
    for note in result.notes:
        summary += f"\n\n⚠️ {note}"
    payload = result.to_json()
    payload["target_name"] = CATEGORIES[result.target]
    return figure, summary, payload


@releases_memory
def compare_attributions(image: Optional[str], methods: list[str], target: Optional[str], preset: str, layer: str,
                         display: str, scale: str, budget: float, request: gr.Request = None,
                         progress: gr.Progress = gr.Progress()) -> tuple[Any, dict]:
    """Several methods side by side on the same target, each with its faithfulness score."""
    lang = request_language(request)
    if not methods:
        raise gr.Error(tr("attributions.no_methods", lang), print_exception=False)
    crop, x = _attr_prepare(image, lang)
    absolute = display == "absolute"
    wanted = _attr_target(target, lang)
    attributor = get_attributor()
    panels, results = [], {}
    for k, method in enumerate(methods):
        label = tr("attributions.progress", lang, what=f"{_attr_name(method, lang)} ({k + 1}/{len(methods)})")

        def report(fraction: float, desc: str, k: int = k, label: str = label) -> None:
            progress((k + fraction) / len(methods), desc=label)

        try:
            result = attributor.attribute(x, _attr_settings(method, preset, layer, "black", None, None, None),
                                          wanted, budget_s=budget or None, faithfulness_steps=ATTR_FAITH_STEPS,
                                          absolute_ranking=absolute, progress=report)
        except attr_lib.AttributionError as exc:
            raise user_error(exc, lang) from exc
        wanted = result.target  # every panel explains the same class
        name = _attr_name(method, lang)
        if method in attr_lib.LAYER_METHODS:
            name += f" · {attr_lib.module_display_name(result.settings.layer)}"
        panels.append(attr_render.MapPanel(name, result.map, _attr_caption(result, lang)))
        results[method] = result.to_json()
    title = f"{wanted}: {CATEGORIES[wanted]}"
    figure = attr_render.render_comparison(crop, panels, absolute=absolute, shared_scale=scale == "shared",
                                           title=title, text=_attr_text(lang))
    return figure, {"target": wanted, "target_name": CATEGORIES[wanted], "scale": scale, "methods": results}


@releases_memory
def sanity_check(image: Optional[str], method: str, target: Optional[str], preset: str, layer: str, mode: str,
                 budget: float, request: gr.Request = None,
                 progress: gr.Progress = gr.Progress()) -> tuple[Any, str, dict]:
    """Model-randomisation sanity check (Adebayo et al. 2018) of one method, on a private copy of the model."""
    lang = request_language(request)
    crop, x = _attr_prepare(image, lang)
    try:
        result = get_attributor().sanity_check(
            x, _attr_settings(method, preset, layer, "black", None, None, None), _attr_target(target, lang),
            mode=mode, budget_s=budget or None,
            progress=_attr_progress(progress, lang, tr("attributions.sanity", lang)))
    except attr_lib.AttributionError as exc:
        raise user_error(exc, lang) from exc
    figure = attr_render.render_sanity(
        crop, result.original, [s.block for s in result.steps], [s.map for s in result.steps],
        [s.spearman_abs for s in result.steps], [s.spearman_signed for s in result.steps],
        method=_attr_name(method, lang), mode=tr(f"attributions.sanity_mode.{mode}", lang), text=_attr_text(lang))
    # cascading: the last step has every block randomised; independent: report the block that changed it most
    step = result.steps[-1] if mode == "cascading" else min(result.steps, key=lambda st: st.spearman_abs)
    summary = tr(f"attributions.sanity_summary.{mode}", lang, rho=step.spearman_abs, block=step.block,
                 fwd=result.cost.forward, bwd=result.cost.backward, seconds=result.elapsed_s)
    for note in result.notes:
        summary += f"\n\n⚠️ {note}"
    payload = result.to_json()
    payload["target_name"] = CATEGORIES[result.target]
    return figure, summary, payload


@dataclass
class BranchView:
    """Per-user state of the branch view: the last result, so another module's maps need no recomputation."""

    result: attr_lib.BranchAttribution
    crop: Any  # PIL image


def _branch_maps_figure(view: Optional[BranchView], module: str, display: str, lang: str):
    if view is None:
        return None
    i = view.result.modules.index(module)
    return attr_render.render_branch_maps(view.crop, view.result.maps[module], view.result.values[i], module,
                                          view.result.branches, absolute=display == "absolute",
                                          text=_attr_text(lang))


@releases_memory
def attribute_branches(image: Optional[str], target: Optional[str], branch_method: str, preset: str, module: str,
                       display: str, request: gr.Request = None,
                       progress: gr.Progress = gr.Progress()) -> tuple[Any, Any, dict, Optional[BranchView]]:
    """How much each branch of each Inception module contributed to the target: matrix, one module's maps, JSON."""
    lang = request_language(request)
    crop, x = _attr_prepare(image, lang)
    try:
        result = get_attributor().branch_attribution(x, _attr_target(target, lang), method=branch_method,
                                                     preset=preset,
                                                     internal_batch_size=attr_lib.batch_size_for(x.device),
                                                     progress=_attr_progress(progress, lang,
                                                                             tr("attributions.branches", lang)))
    except attr_lib.AttributionError as exc:
        raise user_error(exc, lang) from exc
    title = tr("attributions.fig.branch_title", lang, target=f"{result.target}: {CATEGORIES[result.target]}",
               method=tr(f"attributions.branch_method.{branch_method}", lang))
    matrix = attr_render.render_branch_matrix(result.values, result.modules, result.branches, share=result.share(),
                                              title=title, text=_attr_text(lang))
    view = BranchView(result, crop)
    payload = result.to_json()
    payload["target_name"] = CATEGORIES[result.target]
    return matrix, _branch_maps_figure(view, module, display, lang), payload, view


def show_branch_maps(view: Optional[BranchView], module: str, display: str, request: gr.Request = None):
    return _branch_maps_figure(view, module, display, request_language(request))


def attribution_top5(image: Optional[str], request: gr.Request = None):
    """Fill the one-click top-5 target buttons for a new photo."""
    if not image:
        return gr.update(choices=[], value=None)
    try:
        result = get_engine().classify(image)
    except ImageInputError:
        return gr.update(choices=[], value=None)
    choices = [(f"{s.name} ({s.probability:.0%})", f"{s.index}: {s.name}") for s in result.top]
    return gr.update(choices=choices, value=None)


def build_attributions_tab(page: Page) -> None:
    methods = [(I18N(f"attributions.method.{m}"), m) for m in attr_lib.METHODS]
    presets = [(I18N(f"attributions.preset.{p}"), p) for p in attr_lib.PRESETS]
    modules = [(attr_lib.module_display_name(m), m) for m in INCEPTION_MODULES]
    displays = [(I18N("attributions.display.signed"), "signed"), (I18N("attributions.display.absolute"), "absolute")]
    targets = [(I18N("attributions.target_top1"), ATTR_TOP1)] + [f"{i}: {n}" for i, n in enumerate(CATEGORIES)]
    # One shared limit for all heavy events (set per device by apply_limits; never more than the replica pool).
    queue_opts = dict(concurrency_limit=ATTR_CONCURRENCY, concurrency_id=HEAVY)
    with gr.Tab(I18N("attributions.tab"), id="attributions") as tab:
        gr.Markdown(I18N("attributions.intro"))
        with gr.Row():
            with gr.Column(scale=1):
                method = gr.Dropdown(methods, value="integrated_gradients", label=I18N("attributions.method"),
                                     elem_id="attr-method")
                layer = gr.Dropdown(modules, value="inception4e", label=I18N("attributions.layer"),
                                    info=I18N("attributions.layer_info"), elem_id="attr-layer")
                preset = gr.Radio(presets, value="fast", label=I18N("attributions.preset"), elem_id="attr-preset")
                # custom values: API callers (and users) may also give "281", "tabby" or "281: tabby"
                target = gr.Dropdown(targets, value=ATTR_TOP1, filterable=True, allow_custom_value=True,
                                     label=I18N("attributions.target"),
                                     info=I18N("attributions.target_info"), elem_id="attr-target")
                top5 = gr.Radio([], label=I18N("attributions.top5"), elem_id="attr-top5")
                display = gr.Radio(displays, value="signed", label=I18N("attributions.display"),
                                   elem_id="attr-display")
                with gr.Accordion(I18N("attributions.advanced"), open=False):
                    baseline = gr.Radio([(I18N(f"attributions.baseline.{b}"), b) for b in attr_lib.BASELINES],
                                        value="black", label=I18N("attributions.baseline"))
                    budget = gr.Slider(5, 120, value=30, step=5, label=I18N("attributions.budget"),
                                       info=I18N("attributions.budget_info"))
                    steps = gr.Number(0, precision=0, minimum=0, maximum=256, label=I18N("attributions.steps"),
                                      info=I18N("attributions.steps_info"))
                    window = gr.Number(0, precision=0, minimum=0, maximum=224, label=I18N("attributions.window"))
                    stride = gr.Number(0, precision=0, minimum=0, maximum=112, label=I18N("attributions.stride"))
                cost = gr.Markdown(elem_id="attr-cost")
                run = gr.Button(I18N("attributions.run"), variant="primary", elem_id="attr-run")
            with gr.Column(scale=2):
                figure = gr.Image(label=I18N("attributions.result"), type="pil", format="png", interactive=False,
                                  show_label=False, elem_id="attr-figure")
                page.attribution_figure = figure
                summary = gr.Markdown(elem_id="attr-summary")
                with gr.Accordion(I18N("attributions.raw"), open=False):
                    raw = gr.JSON(elem_id="attr-json")
        with gr.Accordion(I18N("attributions.compare"), open=False):
            with gr.Row():
                compare_methods = gr.CheckboxGroup(methods, value=["integrated_gradients", "saliency",
                                                                   "layer_gradcam"],
                                                   label=I18N("attributions.compare_methods"))
                scale = gr.Radio([(I18N("attributions.scale.per_map"), "per_map"),
                                  (I18N("attributions.scale.shared"), "shared")], value="per_map",
                                 label=I18N("attributions.scale"), info=I18N("attributions.scale_info"))
            compare_run = gr.Button(I18N("attributions.compare_run"), elem_id="attr-compare-run")
            compare_figure = gr.Image(type="pil", format="png", interactive=False, show_label=False,
                                  label=I18N("attributions.compare"))
            compare_raw = gr.JSON(label=I18N("attributions.raw"))
        with gr.Accordion(I18N("attributions.sanity"), open=False):
            gr.Markdown(I18N("attributions.sanity_help"))
            mode = gr.Radio([(I18N(f"attributions.sanity_mode.{m}"), m) for m in attr_lib.SANITY_MODES],
                            value="cascading", label=I18N("attributions.sanity_mode"))
            sanity_run = gr.Button(I18N("attributions.sanity_run"), elem_id="attr-sanity-run")
            sanity_figure = gr.Image(type="pil", format="png", interactive=False, show_label=False,
                                  label=I18N("attributions.sanity"))
            sanity_summary = gr.Markdown()
            sanity_raw = gr.JSON(label=I18N("attributions.raw"))
        with gr.Accordion(I18N("attributions.branches"), open=False):
            gr.Markdown(I18N("attributions.branch_help"))
            with gr.Row():
                branch_method = gr.Radio([(I18N(f"attributions.branch_method.{m}"), m)
                                          for m in attr_lib.BRANCH_METHODS],
                                         value="grad_x_activation", label=I18N("attributions.branch_method"))
                branch_module = gr.Dropdown(modules, value="inception4c", label=I18N("attributions.branch_module"))
            branch_run = gr.Button(I18N("attributions.branch_run"), elem_id="attr-branch-run")
            with gr.Row():
                branch_matrix = gr.Image(type="pil", format="png", interactive=False, show_label=False,
                                  label=I18N("attributions.branch_matrix"))
                branch_maps = gr.Image(type="pil", format="png", interactive=False, show_label=False,
                                  label=I18N("attributions.branch_maps"))
            branch_raw = gr.JSON(label=I18N("attributions.raw"))
            branch_state = gr.State(None)
        gr.Markdown(I18N("attributions.explain"))

    cost_inputs = [page.image, method, preset, layer, baseline, steps, window, stride, budget]
    for component in (method, preset, layer, baseline, steps, window, stride, budget):
        component.change(attribution_cost, inputs=cost_inputs, outputs=cost, api_visibility="private")
    page.image.change(attribution_top5, inputs=page.image, outputs=top5, api_visibility="private")
    page.image.change(attribution_cost, inputs=cost_inputs, outputs=cost, api_visibility="private")
    tab.select(attribution_cost, inputs=cost_inputs, outputs=cost, api_visibility="private")
    top5.select(lambda v: v or ATTR_TOP1, inputs=top5, outputs=target, api_visibility="private")
    run.click(attribute, inputs=[page.image, method, target, preset, layer, display, baseline, budget, steps, window,
                                 stride], outputs=[figure, summary, raw], api_name="attribute", **queue_opts)
    compare_run.click(compare_attributions, inputs=[page.image, compare_methods, target, preset, layer, display,
                                                    scale, budget],
                      outputs=[compare_figure, compare_raw], api_name="compare_attributions", **queue_opts)
    sanity_run.click(sanity_check, inputs=[page.image, method, target, preset, layer, mode, budget],
                     outputs=[sanity_figure, sanity_summary, sanity_raw], api_name="sanity_check", **queue_opts)
    branch_run.click(attribute_branches, inputs=[page.image, target, branch_method, preset, branch_module, display],
                     outputs=[branch_matrix, branch_maps, branch_raw, branch_state], api_name="attribute_branches",
                     **queue_opts)
    branch_module.change(show_branch_maps, inputs=[branch_state, branch_module, display], outputs=branch_maps,
                         api_visibility="private")


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
    """Every report text in the reader's language: field ``name`` comes from key ``classroom.r_<name>``."""
    return ReportText(**{f.name: tr(f"classroom.r_{f.name}", lang) for f in dataclass_fields(ReportText)})


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


@releases_memory
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
    page.report_controls = (fmt, button, report_file)


def wire_report(page: Page) -> None:
    """Connect the report button once every tab exists: it takes the branch overview and the attribution figure
    the user is looking at (empty ones are noted as "not computed" in the report)."""
    assert page.report_controls is not None
    fmt, button, report_file = page.report_controls
    extras = [c for c in (page.branch_overview, page.attribution_figure) if c is not None]
    button.click(export_report, inputs=[page.image, fmt, *extras], outputs=report_file, api_name="report")


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
    with gr.Blocks(title="GoogLeNet Explorer", delete_cache=DELETE_CACHE) as blocks:
        # One I18N key per Markdown: Gradio's front end translates only the first key embedded in a string.
        gr.Markdown(f"# {I18N('common.title')}")
        gr.Markdown(I18N("common.subtitle"))
        build_classroom_intro()
        banner = gr.Markdown(elem_id="weights-banner")
        with gr.Row():
            image = PhotoInput(
                label=I18N("common.image"),
                type="filepath",
                sources=["upload", "webcam", "clipboard"],
                height=300,
                elem_id="photo",
            )
        # Examples only fill in the photo; the tabs react to the photo's change event. No caching: nothing runs
        # at start-up (no GPU needed on ZeroGPU), and cached results would freeze server-written text in the first
        # visitor's language.
        examples = gr.Examples(examples=EXAMPLES, inputs=image, label=I18N("common.examples"), cache_examples=False)
        page = Page(image=image, examples=examples)
        with gr.Tabs():
            build_classify_tab(page)
            build_branches_tab(page)
            build_attributions_tab(page)
            build_aux_tab(page)
        wire_report(page)
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
                        help="address to bind (default 127.0.0.1, or 0.0.0.0 on Hugging Face Spaces where the "
                             "proxy needs it; use 0.0.0.0 elsewhere only where the host requires it)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link (off by default)")
    parser.add_argument("--inbrowser", action="store_true", help="open a browser tab")
    parser.add_argument("--aux-weights", metavar="FILE",
                        help="aux heads made by `python -m googlenet distill-aux` (default: $GOOGLENET_AUX_WEIGHTS)")
    parser.add_argument("--max-upload-mb", type=int, default=int(os.environ.get("GOOGLENET_MAX_UPLOAD_MB", "20")),
                        help="largest accepted upload in MB (larger ones get HTTP 413; default 20)")
    parser.add_argument("--queue-size", type=int, default=int(os.environ.get("GOOGLENET_QUEUE_SIZE", "64")),
                        help="requests that may wait in the queue before new ones are turned away (default 64)")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="of /classify: auto (default: fp16 on CUDA, fp32 elsewhere), fp32, bf16 (faster on CPUs "
                             "with AMX or avx512_bf16, probabilities move by a few hundredths), fp16 (CUDA). Branches, "
                             "attributions and aux heads always run in fp32. Default $GOOGLENET_PRECISION")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    limit_arenas(2)  # before Gradio starts its worker threads (see googlenet/memory.py)
    configure(
        replace(
            _settings,
            weights=args.weights or _settings.weights,
            device=args.device or _settings.device,
            allow_download=_settings.allow_download and not args.no_download,
            require_pretrained=_settings.require_pretrained or args.require_pretrained,
            aux_weights=args.aux_weights or _settings.aux_weights,
            precision=args.precision or _settings.precision,
        )
    )
    engine = get_engine()  # load now: fail fast, and the first request is not slow
    get_aux_heads()  # aux heads (and --aux-weights) are loaded before serving, never while requests run
    log.info("weights: %s; device: %s; inference: %s", engine.weights.description, engine.device_name,
             engine.inference_description)
    if ZEROGPU:
        log.info("ZeroGPU: GPU work runs under spaces.GPU")
    # Queue max_size is explicit (Limits.queue_size): on ZeroGPU Gradio would otherwise default it to 1.
    limits = Limits.for_device(engine.device.type, queue_size=args.queue_size, max_upload_mb=args.max_upload_mb)
    log.info("limits: %s; binding %s", limits, args.host)
    apply_limits(demo, limits).launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,  # a public gradio.live link only when asked for
        inbrowser=args.inbrowser,
        show_error=False,  # internal exception texts and paths never reach clients (gr.Error messages still do)
        max_file_size=f"{limits.max_upload_mb}mb",
        run_history=False,  # else each browser keeps every photo and result (shared classroom machines)
        i18n=I18N,
        css=CSS,
    )


if __name__ == "__main__":
    main()
