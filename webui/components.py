"""Components of our own: the photo input that hands uploads over undecoded, number inputs whose range errors are
the handlers' own, and the class picker (every class in the reader's language)."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from typing import Any, Optional, Sequence

import gradio as gr
from gradio import processing_utils
from gradio.data_classes import ImageData

from googlenet.labels import display_names
from googlenet.messages import DEFAULT_LANGUAGE

from .endpoint import endpoint, wire
from .i18n import tr

__all__ = ["PhotoInput", "Number", "Slider", "LiveFrame", "class_choices", "class_picker"]


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


class Number(gr.Number):
    """``gr.Number`` whose range is enforced by the browser and by the handler, not by Gradio's preprocess.

    Why: Gradio's own check answers an out-of-range value (typed into the box, or sent through the API) with an
    English sentence, before any of our code can see the request's language. The handlers validate the value
    themselves and raise keyed errors (e.g. ``errors.steps_range``), which reach the user in their language.
    """

    def get_block_name(self) -> str:
        return "number"

    def preprocess(self, payload: Optional[float]) -> Optional[float]:
        if payload is None:
            return None
        return self.round_to_precision(payload, self.precision)


class Slider(gr.Slider):
    """``gr.Slider`` whose range is enforced by the browser and by the handler (see :class:`Number`)."""

    def get_block_name(self) -> str:
        return "slider"

    def preprocess(self, payload: float) -> float:
        return gr.Number.round_to_precision(payload, self.precision)


class LiveFrame(gr.Image):
    """The live camera: ``gr.Image(sources=["webcam"], streaming=True)`` whose preprocess hands over each frame's
    JPEG bytes undecoded (the browser sends every frame as a ``data:image/jpeg;base64`` URL; Gradio's own preprocess
    would decode it to PIL and then to numpy or a file). The handler decodes it once, through the same safe decoder
    as every upload (``googlenet.images``), straight to the array the network's preprocessing reads.

    Build it as ``LiveFrame(sources=["webcam"], streaming=True, ...)``: Gradio builds the browser's config from the
    constructor's own parameters, so this class keeps ``gr.Image``'s signature."""

    def get_block_name(self) -> str:  # the browser side is the stock Image component
        return "image"

    def get_block_class(self) -> str:
        return "image"

    def preprocess(self, payload: Optional[ImageData]) -> Optional[bytes]:
        if payload is None:
            return None
        if payload.url and payload.url.startswith("data:"):
            try:
                return base64.b64decode(payload.url.partition(",")[2], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise gr.Error(tr("errors.corrupt", "en", format="data URL"), print_exception=False) from exc
        if payload.path is None:
            raise gr.Error(tr("errors.file_gone", "en"), print_exception=False)
        with open(payload.path, "rb") as f:  # an API client's file: a path in Gradio's cache, checked by Gradio
            return f.read()


def class_choices(lang: str = DEFAULT_LANGUAGE, head: Sequence[tuple[Any, str]] = ()) -> list[tuple[Any, str]]:
    """Every ImageNet class for a dropdown (after ``head``): labelled as the page shows it in ``lang`` ("얼룩 고양이
    (tabby)" in Korean, so typing either name filters to it), valued by its index as text ("281")."""
    return [*head, *((name, str(i)) for i, name in enumerate(display_names(lang)))]


def class_picker(page: Any, value: str, *, head: Sequence[tuple[Any, str]] = (), **kwargs: Any) -> gr.Dropdown:
    """A searchable dropdown of the 1,000 classes (custom values allowed: "281", "tabby", "281: tabby", a Korean
    name; the handler checks them). Built in English; when the page loads, a reader of another language gets
    the names in it (``page.blocks.load``), so the page is built once for every language."""
    dropdown = gr.Dropdown(class_choices(DEFAULT_LANGUAGE, head), value=value, filterable=True,
                           allow_custom_value=True, **kwargs)

    @endpoint()
    def localized(*, lang: str) -> Any:
        """The class picker in the reader's language (nothing to send for English)."""
        if display_names(lang) == display_names(DEFAULT_LANGUAGE):
            return gr.skip()
        return gr.update(choices=class_choices(lang, head))

    if getattr(page, "blocks", None) is not None:
        wire(page.blocks.load, localized, None, dropdown)
    return dropdown
