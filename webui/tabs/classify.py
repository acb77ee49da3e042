"""The Classify tab, ``/classify`` and ``/top5``: the top-5, the 224x224 crop the network saw, weights, device, time.

The first answer comes first: when the photo changes, the page's first event returns the top-5 alone (the crop is
neither encoded nor sent, no JSON, no summary) and keeps the result in the session; a chained event then shows the
crop, the summary and the JSON from it, and only after that do the other tabs start their own work on the photo
(``Page.after_first_answer``), so that nothing competes with the forward pass the reader is waiting for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import gradio as gr

from googlenet.inference import Classification, TopClasses
from googlenet.labels import shown_name
from googlenet.messages import KeyedError

from ..endpoint import endpoint, wire
from ..i18n import label, tr
from ..limits import CLASSIFY_MAX_BATCH, ZERO_GPU_TIME, classify_batching
from ..page import Page, cpu_note, notices_text, require_image
from ..services import Services
from ..zerogpu import Ran, gpu

__all__ = ["ClassifyTab", "FirstAnswer", "classify_on_device", "classify_batch_on_device", "classify_outputs",
           "details_outputs", "top5_labels"]

ClassifyOutputs = tuple[dict[str, float], Any, str, dict]


@gpu(duration=ZERO_GPU_TIME.seconds())
def classify_on_device(services_key: str, path: str) -> Classification:
    """The forward pass. On ZeroGPU this runs in a worker process: it takes and returns CPU data only."""
    return Services.find(services_key).engine.classify(path)


@gpu(duration=ZERO_GPU_TIME.seconds())
def classify_batch_on_device(services_key: str, images: list[Optional[str]]) -> list[Classification | KeyedError]:
    """Several requests' photos through ONE forward pass (dynamic batching on a GPU). One bad photo must not fail the
    others' requests, so its error becomes its own answer (keyed errors pickle, so they cross from a ZeroGPU
    worker intact)."""
    engine = Services.find(services_key).engine
    try:
        return list(engine.classify_batch([require_image(image) for image in images]))
    except KeyedError:
        results: list[Classification | KeyedError] = []
        for image in images:  # rare: find which one failed, answer the others normally
            try:
                results.append(engine.classify(require_image(image)))
            except KeyedError as exc:
                results.append(exc)
        return results


def top5_labels(result: Classification | TopClasses, lang: str) -> dict[str, float]:
    """The top-5 for a gr.Label, each class as the page shows it in ``lang`` ("얼룩 고양이 (tabby)" in Korean); the
    JSON keeps the English names and the indices."""
    return {shown_name(s.index, s.name, lang): s.probability for s in result.top}


def classify_outputs(ran: Ran[Classification], lang: str, *, toast: bool = True) -> ClassifyOutputs:
    """The four outputs of /classify for one result: label dict, crop, summary line, raw JSON."""
    result = ran.value
    info = tr("classify.info", lang, weights=result.weights.message, device=result.device, ms=result.elapsed_ms)
    if result.weights.warning:
        info = f"**⚠️ {tr('weights.untrained', lang)}** · {info}"
    info += notices_text(result.notices, lang) + cpu_note(ran, lang, toast=toast)
    return top5_labels(result, lang), result.crop, info, result.to_json()


def details_outputs(ran: Ran[Classification], lang: str) -> tuple[Any, str, dict]:
    """What follows the top-5 on the page: the crop, the summary line and the JSON."""
    _, crop, info, raw = classify_outputs(ran, lang)
    return crop, info, raw


@dataclass(frozen=True)
class FirstAnswer:
    """Per-user state between the top-5 and its details: which photo, and its result (picklable)."""

    image: str
    ran: Ran[Classification]


class ClassifyTab:
    """Classify: runs on every change of the photo; ``/classify`` for API clients."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @endpoint()
    def classify(self, image: Optional[str], *, lang: str) -> ClassifyOutputs:
        """The 1,000-class ImageNet prediction of GoogLeNet (Inception v1, torchvision's weights) for one photo.

        Args:
            image: The photo: JPEG (up to 200 megapixels), PNG, WebP, HEIC/HEIF, AVIF, BMP, TIFF, GIF or ICO.
        Returns:
            The top-5 classes with their probabilities, the 224x224 crop the network saw, a one-line summary \
            (weights, device, time) and the same result as JSON (top-5 with class index, name and probability).
        """
        return classify_outputs(self.services.on_device(classify_on_device, require_image(image)), lang)

    @endpoint()
    def top5(self, image: Optional[str], *, lang: str) -> dict[str, float]:
        """The top-5 ImageNet classes of GoogLeNet for one photo, and nothing else: the quickest answer.

        Args:
            image: The photo: JPEG (up to 200 megapixels), PNG, WebP, HEIC/HEIF, AVIF, BMP, TIFF, GIF or ICO.
        Returns:
            The top-5 classes with their probabilities (the first output of /classify, without the crop, the \
            summary or the JSON).
        """
        return top5_labels(self.services.on_device(classify_on_device, require_image(image)).value, lang)

    @endpoint()
    def first_answer(self, image: Optional[str], *, lang: str) -> tuple[Any, Optional[FirstAnswer]]:
        """The page's photo changed: its top-5 now (the details follow), or clear it when the photo was removed."""
        if not image:
            return None, None
        ran = self.services.on_device(classify_on_device, image)
        return top5_labels(ran.value, lang), FirstAnswer(image, ran)

    @endpoint()
    def details(self, image: Optional[str], answer: Optional[FirstAnswer], *, lang: str) -> tuple[Any, str, Any]:
        """After the top-5: the crop, the summary and the JSON of the same result (nothing is computed again). A
        result kept for another photo (this photo failed) clears them."""
        if not image or answer is None or answer.image != image:
            return None, "", None
        return details_outputs(answer.ran, lang)

    @endpoint()
    def classify_batched(self, images: list[Optional[str]], *, lang: str) -> tuple[list, list, list, list]:
        """/classify with batch=True: lists in, one list per output (see :func:`classify_batch_on_device`). A failed
        photo gets an empty label and the message. Gradio passes the first request of the batch, so all answers are
        in its language."""
        ran = self.services.on_device(classify_batch_on_device, list(images))
        answers: list[ClassifyOutputs] = []
        for i, result in enumerate(ran.value):
            if isinstance(result, KeyedError):
                message = result.text(lang)
                answers.append(({}, None, f"**{message}**", {"error": message}))
                continue
            answers.append(classify_outputs(Ran(result, ran.on_cpu), lang, toast=i == 0))
        return tuple(list(column) for column in zip(*answers))  # type: ignore[return-value]

    def build(self, page: Page, report_panel: Any) -> None:
        with gr.Tab(label("classify.tab"), id="classify"):
            top5 = gr.Label(num_top_classes=5, label=label("classify.top5"), elem_id="top5")
            info = gr.Markdown(elem_id="classify-info")
            with gr.Row():
                crop = gr.Image(label=label("classify.crop"), type="pil", interactive=False, elem_id="crop",
                                height=240, min_width=200)
                gr.Markdown(label("classify.explain"), min_height=0)
            with gr.Accordion(label("classify.raw"), open=False):
                raw = gr.JSON(elem_id="classify-json")
            report_panel.build(page)
            # The page classifies on every change of the photo (upload, webcam, paste, example click: one event
            # each); API clients call /classify and /top5, carried by hidden triggers so they reject a missing image.
            api_trigger = gr.Button(visible=False)
            top5_trigger = gr.Button(visible=False)
            answer = gr.State(None)
        outputs = [top5, crop, info, raw]
        if classify_batching(self.services.settings):
            # Dynamic batching (GPU): concurrent /classify requests waiting in the queue go through ONE forward
            # pass. Same api_name, same inputs/outputs per request: Gradio splits the batch back per user.
            wire(api_trigger.click, self.classify_batched, page.image, outputs, api_name="classify", batch=True,
                 max_batch_size=CLASSIFY_MAX_BATCH)
        else:
            wire(api_trigger.click, self.classify, page.image, outputs, api_name="classify")
        wire(top5_trigger.click, self.top5, page.image, top5, api_name="top5")
        first = wire(page.image.change, self.first_answer, page.image, [top5, answer])
        details = wire(first.then, self.details, [page.image, answer], [crop, info, raw])
        page.after_first_answer = details.then
