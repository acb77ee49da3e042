"""Dataset examples of a unit, and ``/dataset_examples``: the photos (crops) where it fires most, and where it fires
on the current photo.

The crops come from the photo index given with ``--photo-index`` (``python -m googlenet index-photos DIR --out
INDEX``); without one, from the example photos plus the current photo, with a note that says how to build an index.
The panel sits in the Units tab, under the unit's feature visualization, and reads the same unit pickers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import gradio as gr
import numpy as np
import torch
from PIL import Image

from googlenet.photo_index import (Example, crop_at, firing_map, index_examples, ranked, top_positions,
                                   unit_geometry)
from googlenet.render.branches import overlay_heat
from googlenet.units import UnitError, UnitLocation, channel_index, locate

from ..endpoint import endpoint, wire
from ..i18n import label, tr
from ..limits import ZERO_GPU_TIME
from ..page import Page, cpu_note
from ..services import Services
from ..zerogpu import Ran, gpu

__all__ = ["DatasetExamples", "UnitExamplesPanel", "dataset_examples_on_device", "CURRENT_CROPS"]

log = logging.getLogger(__name__)

#: How many crops of the current photo are shown (the strongest positions whose crops do not mostly overlap).
CURRENT_CROPS = 4


@dataclass(frozen=True)
class DatasetExamples:
    """What the panel shows, as picklable data (it crosses back from a ZeroGPU worker)."""

    location: UnitLocation
    source: str  # "index" (--photo-index) or "examples" (the example photos and the current photo)
    photos: int  # photos in that index
    examples: tuple[Example, ...]  # best first; the current photo's entry has photo == current_name
    current_name: Optional[str]  # the current photo's file name (None: no photo given)
    current: tuple[Example, ...]  # the strongest positions on the current photo
    upsampled: Optional[np.ndarray]  # 224 x 224: the unit's map on the current photo
    crop: Optional[Image.Image]  # the current photo as the network sees it (224 x 224)
    field_size: int
    field_jump: int
    grid: tuple[int, int]


@gpu(duration=ZERO_GPU_TIME.seconds())  # one forward pass (and, without an index, one per example photo)
def dataset_examples_on_device(services_key: str, path: Optional[str], module: str, branch: str,
                               channel: int) -> DatasetExamples:
    """The unit's crops from the index (or the example photos) and its map on the photo at ``path``, on the
    services' device (the shared fast model, read-only: the forward walks the layers without hooks)."""
    services = Services.find(services_key)
    engine = services.engine
    location = locate(engine.reference, module, branch, channel)
    key = f"{module}.{branch}"
    index = services.photo_index if services.photo_index is not None else services.examples_index()
    source = "index" if services.photo_index is not None else "examples"
    slot = index.slot(key)
    geometry = unit_geometry(engine.reference, key, slot.grid)
    examples = index_examples(index, location, geometry, index_path=services.photo_index_path,
                              limits=engine.image_limits, spec=engine.preprocess_spec)
    current: list[Example] = []
    upsampled, crop, name = None, None, None
    if path:
        name = Path(path).name
        crop, x = engine.prepare(path)
        fired = firing_map(engine.fast, x.contiguous(memory_format=torch.channels_last), location)
        upsampled = fired.upsampled
        for y, x0 in top_positions(fired, CURRENT_CROPS):
            box = fired.geometry.box(y, x0)
            current.append(Example(name, float(fired.grid_map[y, x0]), (y, x0), box, crop_at(crop, box)))
        # Without an index the current photo competes with the example photos (unless it is one of them).
        if source == "examples" and current and name not in index.photos:
            examples = ranked([*examples, current[0]], index.k)
    return DatasetExamples(location, source, len(index.photos), tuple(examples), name, tuple(current), upsampled,
                           crop, geometry.field.size, geometry.field.jump, geometry.grid)


class UnitExamplesPanel:
    """The dataset-examples panel: built under the unit pickers of the Units tab (``build(page, module, branch,
    channel)``), with the public ``/dataset_examples`` endpoint."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def _caption(self, example: Example, current_name: Optional[str], lang: str) -> str:
        if current_name is not None and example.photo == current_name and example.image is not None:
            return tr("examples.caption_current", lang, value=f"{example.value:.3g}")
        if example.image is None:
            return tr("examples.caption_missing", lang, photo=example.photo, value=f"{example.value:.3g}")
        return tr("examples.caption", lang, photo=example.photo, value=f"{example.value:.3g}")

    def _note(self, result: DatasetExamples, lang: str) -> str:
        if result.source == "index":
            text = tr("examples.source_index", lang, photos=result.photos, k=len(result.examples))
        else:
            text = tr("examples.source_examples", lang, photos=result.photos)
        missing = sum(e.image is None for e in result.examples)
        if missing:
            text += "\n\n" + tr("examples.missing_photos", lang, n=missing)
        if result.field_size > 224:
            text += "\n\n" + tr("examples.whole_photo", lang, rf=result.field_size)
        return text

    def _json(self, result: DatasetExamples) -> dict:
        unit = result.location.unit
        return {
            "unit": {"module": unit.module, "branch": unit.branch, "channel": unit.channel,
                     "module_channel": result.location.module_channel},
            "receptive_field": {"size": result.field_size, "jump": result.field_jump},
            "grid": list(result.grid),
            "source": result.source,
            "index_photos": result.photos,
            "examples": [e.to_json() | {"current_photo": e.photo == result.current_name and e.image is not None,
                                        "available": e.image is not None} for e in result.examples],
            "current": None if result.current_name is None else {
                "photo": result.current_name,
                "max": round(max((e.value for e in result.current), default=0.0), 6),
                "top": [e.to_json() for e in result.current],
            },
        }

    def _overlay(self, result: DatasetExamples) -> Optional[Image.Image]:
        if result.crop is None or result.upsampled is None:
            return None
        grey = np.asarray(result.crop.convert("L"), dtype=np.float32) / 255.0  # 224 x 224
        high = float(result.upsampled.max())
        return Image.fromarray(overlay_heat(grey, result.upsampled, high if high > 0 else 1.0))

    def views(self, result: DatasetExamples, lang: str, note: str = "") -> tuple:
        gallery = [(e.image, self._caption(e, result.current_name, lang)) for e in result.examples
                   if e.image is not None]
        current = [(e.image, tr("examples.caption_position", lang, y=e.position[0], x=e.position[1],
                                value=f"{e.value:.3g}")) for e in result.current]
        return gallery, self._overlay(result), current, self._note(result, lang) + note, self._json(result)

    @endpoint(trims_memory=True)
    def dataset_examples(self, image: Optional[str], module: str = "inception4a", branch: str = "branch1",
                         channel: float = 0, *, lang: str) -> tuple:
        """The dataset examples of one unit: the receptive-field-sized crops of photos where it fires most, and
        where it fires on the given photo.

        Args:
            image: A photo (optional): where the unit fires on it is shown too (JPEG, PNG, WebP, HEIC/HEIF, AVIF...).
            module: The Inception module: inception3a, 3b, 4a, 4b, 4c, 4d, 4e, 5a or 5b.
            branch: The branch: branch1 (1x1), branch2 (3x3), branch3 (the paper's 5x5, 3x3 in this checkpoint) or \
            branch4 (pool, then 1x1).
            channel: The channel's index within the branch, as in /branches' top_channels.
        Returns:
            The crops where the unit fires most in the photo index (or, without one, in the example photos and \
            this photo) with their values and photo names as captions; this photo with the unit's activation \
            overlaid; this photo's crops at its strongest positions; a note on where the crops come from; and \
            JSON with the values, grid positions, crop boxes (pixels of the 224x224 input) and photo names.
        """
        channel = channel_index(channel, module, branch)
        ran: Ran[DatasetExamples] = self.services.on_device(dataset_examples_on_device, image or None, module,
                                                            branch, channel)
        return self.views(ran.value, lang, cpu_note(ran, lang))

    @endpoint(trims_memory=True)
    def examples_changed(self, image: Optional[str], module: str, branch: str, channel: float, *,
                         lang: str) -> tuple:
        """Another unit or photo on the page: the same views (a unit that is not valid yet shows nothing new)."""
        try:
            channel = channel_index(channel, module, branch)
            locate(self.services.engine.reference, module, branch, channel)
        except UnitError:
            return (gr.skip(),) * 5
        ran: Ran[DatasetExamples] = self.services.on_device(dataset_examples_on_device, image or None, module,
                                                            branch, channel)
        return self.views(ran.value, lang, cpu_note(ran, lang, toast=False))

    def build(self, page: Page, module: gr.Dropdown, branch: gr.Dropdown, channel: gr.Number) -> None:
        with gr.Group(elem_id="ex-panel"):
            gr.Markdown(label("examples.title"))
            gr.Markdown(label("examples.intro"))
            run = gr.Button(label("examples.run"), elem_id="ex-run")
            gallery = gr.Gallery(label=label("examples.gallery"), columns=5, height=260, format="png",
                                 interactive=False, object_fit="contain", elem_id="ex-gallery")
            with gr.Row():
                overlay = gr.Image(label=label("examples.overlay"), type="pil", interactive=False, format="png",
                                   elem_id="ex-overlay")
                current = gr.Gallery(label=label("examples.current"), columns=2, height=260, format="png",
                                     interactive=False, object_fit="contain", elem_id="ex-current")
            note = gr.Markdown(elem_id="ex-note")
            with gr.Accordion(label("examples.raw"), open=False):
                raw = gr.JSON(elem_id="ex-json")
            with gr.Accordion(label("examples.what_title"), open=False):
                gr.Markdown(label("examples.what"))
        inputs = [page.image, module, branch, channel]
        outputs = [gallery, overlay, current, note, raw]
        wire(run.click, self.dataset_examples, inputs, outputs, api_name="dataset_examples")
        wire(page.photo_changed, self.examples_changed, inputs, outputs, trigger_mode="always_last")
        for control in (module, branch, channel):  # a unit picked by hand or from the branches tab's table
            wire(control.change, self.examples_changed, inputs, outputs, trigger_mode="always_last")
