"""The Classify tab, ``/classify`` and ``/top5``: the top-5, the 224x224 crop the network saw, weights, device, time.

The first answer comes first: when the photo changes, the page's first event returns the top-5 alone (the crop is
neither encoded nor sent, no JSON, no summary) and keeps the result in the session; a chained event then shows the
crop, the summary and the JSON from it, and only after that do the other tabs start their own work on the photo
(``Page.after_first_answer``), so that nothing competes with the forward pass the reader is waiting for.

The quick path (not under ZeroGPU, whose GPU only queued events get): when a photo is picked or dropped on the page,
a small script (:data:`QUICK_JS`, in a ``gr.HTML`` beside the photo) sends its bytes at once in ONE direct request
(Gradio's ``server_functions``: no upload first, no queue, no event stream) and shows the top-5 it gets back; the
queued change event of the same upload then finds that result (webui/first_answers.py) instead of computing again.
Measured: Gradio's upload, its queue and its event stream cost more than the forward pass (docs/performance.md).

Every upload starts its photo's first answer at once (:func:`prefetch_upload`, called by webui/upload_prefetch.py):
``/classify``, ``/top5`` and the page's change event look the photo up by digest in the same FirstAnswers, so an
API client's call finds the forward pass already running, or done, when its queue join arrives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Optional

import gradio as gr
from gradio.data_classes import DataWithFiles

from googlenet.inference import Classification, TopClasses
from googlenet.labels import shown_name
from googlenet.messages import KeyedError

from .. import zerogpu
from ..endpoint import endpoint, wire
from ..first_answers import digest_of_bytes, digest_of_file
from ..i18n import label, request_language, tr
from ..limits import CLASSIFY_MAX_BATCH, ZERO_GPU_TIME, classify_batching
from ..page import Page, cpu_note, notices_text, require_image
from ..services import Services
from ..zerogpu import Ran, gpu

__all__ = ["ClassifyTab", "FirstAnswer", "classify_on_device", "classify_batch_on_device", "classify_outputs",
           "details_outputs", "prefetch_upload", "top5_labels", "QUICK_JS", "QUICK_CSS"]

log = logging.getLogger(__name__)

ClassifyOutputs = tuple[dict[str, float], Any, str, dict]


@gpu(duration=ZERO_GPU_TIME.seconds())
def classify_on_device(services_key: str, source: str | bytes) -> Classification:
    """The forward pass for a photo (its path, or its bytes). On ZeroGPU this runs in a worker process: it takes and
    returns CPU data only."""
    return Services.find(services_key).engine.classify(source)


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


def first_answer_of(services: Services, image: str, *, quick: bool = False) -> Optional[Ran[Classification]]:
    """The photo's result from the shared FirstAnswers (computed by its upload's prefetch, its quick request or
    another event with the same bytes; waited for when in flight), else computed now and kept there. ``quick``:
    only if a quick slot is free, else None (see :meth:`FirstAnswers.get`)."""
    return services.first_answers.get(digest_of_file(image), lambda: services.on_device(classify_on_device, image),
                                      quick=quick)


def prefetch_upload(services: Services, path: str) -> None:
    """An uploaded file's first answer, before any event asks for it (webui/upload_prefetch.py): computed into the
    shared FirstAnswers only when a quick slot is free. A file the engine refuses is left to the event that names
    it, which tells its reader why (in their language)."""
    try:
        first_answer_of(services, path, quick=True)
    except KeyedError as exc:
        log.info("upload prefetch: %s; the event that names the file answers", exc.key)


def top5_labels(result: Classification | TopClasses, lang: str) -> dict[str, float]:
    """The top-5 for a gr.Label, each class as the page shows it in ``lang`` ("얼룩 고양이 (tabby)" in Korean); the
    JSON keeps the English names and the indices."""
    return {shown_name(s.index, s.name, lang): s.probability for s in result.top}


def classify_outputs(ran: Ran[Classification], lang: str, *, toast: bool = True,
                     with_crop: bool = True) -> ClassifyOutputs:
    """The four outputs of /classify for one result: label dict, crop (None unless ``with_crop``), summary line, raw
    JSON."""
    result = ran.value
    info = tr("classify.info", lang, weights=result.weights.message, device=result.device, ms=result.elapsed_ms)
    if result.weights.warning:
        info = f"**⚠️ {tr('weights.untrained', lang)}** · {info}"
    info += notices_text(result.notices, lang) + cpu_note(ran, lang, toast=toast)
    return top5_labels(result, lang), result.crop if with_crop else None, info, result.to_json()


def details_outputs(ran: Ran[Classification], lang: str) -> tuple[Any, str, dict]:
    """What follows the top-5 on the page: the crop, the summary line and the JSON."""
    _, crop, info, raw = classify_outputs(ran, lang)
    return crop, info, raw


# The quick path's script (see the module docstring). It runs once per page (js_on_load of the gr.HTML beside the
# photo). A photo picked in the file dialog goes, as bytes, to ``quick_top5`` at once, and Gradio's own handling of
# the pick (its upload, then the change event) is held back until that answer is shown (or QUICK_HOLD_MS passed):
# on two cores, the browser's work for the upload and the server's forward pass would otherwise slow each other
# down. A dropped photo is sent in parallel (a drop cannot be replayed later). An answer is shown only if the photo
# did not change meanwhile: every click, pick or drop starts a new "generation". Nothing here is needed for
# correctness: when the request fails or the server is busy (null), the queued change event answers as before.
QUICK_HOLD_MS = 1500
QUICK_JS = r"""
const state = window.__googlenetQuick || (window.__googlenetQuick = {generation: 0, attached: false, replays: new WeakSet()});
state.send = async (file) => {
  const generation = ++state.generation;
  let answer = null;
  try {
    answer = await server.quick_top5({binary: true, data: {photo: file}});
  } catch (error) {
    console.debug('quick top-5 unavailable, the queued event answers', error);
  }
  if (answer && generation === state.generation) {
    props.value = JSON.stringify(answer);
    trigger('change');
  }
};
const isImage = (file) => !!file && (file.type || '').startsWith('image/');
const inPhoto = (node) => { const photo = document.getElementById('photo'); return !!photo && photo.contains(node); };
if (!state.attached) {
  state.attached = true;
  document.addEventListener('click', () => { state.generation++; }, true);
  document.addEventListener('change', (event) => {
    const input = event.target;
    if (state.replays.has(event) || !(input instanceof HTMLInputElement) || input.type !== 'file' || !inPhoto(input)) return;
    const file = input.files && input.files[0];
    if (!isImage(file)) return;
    event.stopImmediatePropagation();  // Gradio's handler gets the pick after the quick answer
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const replay = new Event('change', {bubbles: true});
      state.replays.add(replay);
      input.dispatchEvent(replay);
    };
    setTimeout(release, __HOLD_MS__);
    state.send(file).finally(() => requestAnimationFrame(release));
  }, true);
  document.addEventListener('drop', (event) => {
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (inPhoto(event.target) && isImage(file)) state.send(file);
  }, true);
}
""".replace("__HOLD_MS__", str(QUICK_HOLD_MS))
QUICK_CSS = "#quick-top5 { display: none !important; }\n"
# The browser-only event that puts the quick answer (Gradio's Label data, as the server wrote it) into the top-5.
_SHOW_QUICK_JS = "(answer) => answer ? JSON.parse(answer) : undefined"


@dataclass(frozen=True)
class FirstAnswer:
    """Per-user state between the top-5 and its details: which photo, and its result (picklable)."""

    image: str
    ran: Ran[Classification]


class ClassifyTab:
    """Classify: runs on every change of the photo; ``/classify`` for API clients."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.top5_label: Optional[gr.Label] = None
        self.quick: Optional[gr.HTML] = None

    def build_quick(self) -> Optional[gr.HTML]:
        """The quick path's script, placed beside the photo (rendered whichever tab is open). None under ZeroGPU,
        whose GPU only queued events get (``zerogpu.ZEROGPU`` read now: tests reload that module)."""
        if zerogpu.ZEROGPU:
            return None

        def quick_top5(data: Any, request: gr.Request) -> Optional[dict]:  # the name the script calls
            return self.quick_top5(data, request)

        # nothing to see: its value (the last quick answer) only feeds the top-5; hidden by QUICK_CSS, still mounted
        self.quick = gr.HTML("", html_template="", elem_id="quick-top5", js_on_load=QUICK_JS,
                             server_functions=[quick_top5], container=False, padding=False, apply_default_css=False)
        return self.quick

    @endpoint()
    def classify(self, image: Optional[str], with_crop: bool = False, *, lang: str) -> ClassifyOutputs:
        """The 1,000-class ImageNet prediction of GoogLeNet (Inception v1, torchvision's weights) for one photo.

        Args:
            image: The photo: JPEG (up to 200 megapixels), PNG, WebP, HEIC/HEIF, AVIF, BMP, TIFF, GIF or ICO.
            with_crop: Also return the 224x224 crop the network saw (an image file to download; off by default).
        Returns:
            The top-5 classes with their probabilities, the 224x224 crop the network saw (None unless with_crop), \
            a one-line summary (weights, device, time) and the same result as JSON (top-5 with class index, name \
            and probability).
        """
        ran = first_answer_of(self.services, require_image(image))
        return classify_outputs(ran, lang, with_crop=bool(with_crop))

    @endpoint()
    def top5(self, image: Optional[str], *, lang: str) -> dict[str, float]:
        """The top-5 ImageNet classes of GoogLeNet for one photo, and nothing else: the quickest answer.

        Args:
            image: The photo: JPEG (up to 200 megapixels), PNG, WebP, HEIC/HEIF, AVIF, BMP, TIFF, GIF or ICO.
        Returns:
            The top-5 classes with their probabilities (the first output of /classify, without the crop, the \
            summary or the JSON).
        """
        return top5_labels(first_answer_of(self.services, require_image(image)).value, lang)

    @endpoint()
    def first_answer(self, image: Optional[str], *, lang: str) -> tuple[Any, Optional[FirstAnswer]]:
        """The page's photo changed: its top-5 now (the details follow), or clear it when the photo was removed."""
        if not image:
            return None, None
        # the photo's quick request or its upload may have computed (or be computing) this result: one forward pass
        ran = first_answer_of(self.services, image)
        return top5_labels(ran.value, lang), FirstAnswer(image, ran)

    def quick_top5(self, data: Any, request: Optional[gr.Request] = None) -> Optional[dict]:
        """The quick path's request (see the module docstring): the photo's bytes in, the top-5 as Gradio's Label
        data out, in the reader's language. None when the page should wait for its queued event instead: the server
        is busy, the request is not one photo, or the photo is bad (the queued event tells the reader why)."""
        files = data.files if isinstance(data, DataWithFiles) else []
        if len(files) != 1 or not files[0][1] or self.top5_label is None:
            return None
        content: bytes = files[0][1]
        lang = request_language(request)
        try:
            ran = self.services.first_answers.get(
                digest_of_bytes(content), lambda: self.services.on_device(classify_on_device, content), quick=True)
        except KeyedError as exc:  # a photo the reader must fix: the queued event says so, in their language
            log.info("quick top-5: %s; the queued event answers", exc.key)
            return None
        if ran is None:
            log.debug("quick top-5: busy; the queued event answers")
            return None
        return self.top5_label.postprocess(top5_labels(ran.value, lang)).model_dump()

    @endpoint()
    def details(self, image: Optional[str], answer: Optional[FirstAnswer], *, lang: str) -> tuple[Any, str, Any]:
        """After the top-5: the crop, the summary and the JSON of the same result (nothing is computed again). A
        result kept for another photo (this photo failed) clears them."""
        if not image or answer is None or answer.image != image:
            return None, "", None
        return details_outputs(answer.ran, lang)

    @endpoint()
    def classify_batched(self, images: list[Optional[str]], with_crops: list[bool], *, lang: str
                         ) -> tuple[list, list, list, list]:
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
            answers.append(classify_outputs(Ran(result, ran.on_cpu), lang, toast=i == 0, with_crop=bool(with_crops[i])))
        return tuple(list(column) for column in zip(*answers))  # type: ignore[return-value]

    def build(self, page: Page, report_panel: Any) -> None:
        with gr.Tab(label("classify.tab"), id="classify"):
            self.top5_label = top5 = gr.Label(num_top_classes=5, label=label("classify.top5"), elem_id="top5")
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
            with_crop = gr.Checkbox(False, visible=False, label="with_crop")  # /classify's option (API only)
            answer = gr.State(None)
        outputs = [top5, crop, info, raw]
        if classify_batching(self.services.settings):
            # Dynamic batching (GPU): concurrent /classify requests waiting in the queue go through ONE forward
            # pass. Same api_name, same inputs/outputs per request: Gradio splits the batch back per user.
            wire(api_trigger.click, self.classify_batched, [page.image, with_crop], outputs, api_name="classify",
                 batch=True, max_batch_size=CLASSIFY_MAX_BATCH)
        else:
            wire(api_trigger.click, self.classify, [page.image, with_crop], outputs, api_name="classify")
        wire(top5_trigger.click, self.top5, page.image, top5, api_name="top5")
        first = wire(page.image.change, self.first_answer, page.image, [top5, answer])
        details = wire(first.then, self.details, [page.image, answer], [crop, info, raw])
        page.after_first_answer = details.then
        if self.quick is not None:  # browser only: the quick answer into the top-5 (no request, no queue)
            self.quick.change(None, inputs=self.quick, outputs=top5, js=_SHOW_QUICK_JS, api_visibility="private",
                              show_progress="hidden", queue=False)
