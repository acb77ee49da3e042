"""Dataset examples of one unit: the receptive-field-sized crops where it fires most, and where it fires on a photo.

A unit at grid position (y, x) of its branch sees the patch of the 224x224 network input centred at
``start + (y, x) * jump`` with the branch's receptive field size (:mod:`googlenet.branch_facts`); the crop is that
patch of the preprocessed photo, clipped at the borders (deep units see more than the whole input: their crop is the
whole photo). The index keeps where each photo's maximum is, so a crop needs only the photo, not a forward pass.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from ..activations import capture_tensors
from ..branch_facts import ReceptiveField, receptive_fields
from ..images import DEFAULT_LIMITS, ImageInputError, ImageLimits, open_image
from ..model import BRANCHES, GoogLeNet
from ..transforms import PREPROCESS, Preprocess, center_crop
from ..units import UnitLocation
from .store import PhotoIndex

__all__ = ["Box", "Example", "UnitGeometry", "FiringMap", "unit_geometry", "crop_at", "index_entries",
           "index_examples", "firing_map", "top_positions", "overlap", "ranked"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Box:
    """A crop in pixels of the 224x224 input: left, top inclusive; right, bottom exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    def as_list(self) -> list[int]:
        return [self.left, self.top, self.right, self.bottom]

    @property
    def size(self) -> tuple[int, int]:  # width, height
        return self.right - self.left, self.bottom - self.top


@dataclass(frozen=True)
class UnitGeometry:
    """What a position of one branch's output sees: its receptive field, its grid and the input size."""

    field: ReceptiveField
    grid: tuple[int, int]  # H, W of the branch's output
    input_size: int = PREPROCESS.crop_size

    def box(self, y: int, x: int) -> Box:
        """The receptive field of position (y, x), clipped to the input."""
        half = (self.field.size - 1) / 2
        def span(position: int) -> tuple[int, int]:
            centre = self.field.centre(position)
            lo = max(0, int(math.floor(centre - half)))
            hi = min(self.input_size, int(math.floor(centre + half)) + 1)
            return lo, hi
        (top, bottom), (left, right) = span(y), span(x)
        return Box(left, top, right, bottom)

    def yx(self, flat: int) -> tuple[int, int]:
        return divmod(int(flat), self.grid[1])


def unit_geometry(model: GoogLeNet, branch_key: str, grid: tuple[int, int],
                  input_size: int = PREPROCESS.crop_size) -> UnitGeometry:
    return UnitGeometry(receptive_fields(model)[branch_key], grid, input_size)


@dataclass(frozen=True)
class Example:
    """One crop where a unit fired: the photo, the value, where on the grid, the box, and the crop itself."""

    photo: str  # the photo's name (in the index, or the current photo's label)
    value: float
    position: tuple[int, int]  # y, x on the branch's grid
    box: Box
    image: Optional[Image.Image] = None  # None when the photo could not be read again

    def to_json(self) -> dict:
        return {"photo": self.photo, "value": round(self.value, 6), "position": list(self.position),
                "box": self.box.as_list()}


def crop_at(crop224: Image.Image, box: Box) -> Image.Image:
    """The patch ``box`` of a preprocessed (224x224) photo."""
    return crop224.crop((box.left, box.top, box.right, box.bottom))


@dataclass(frozen=True)
class Entry:
    """One row of a unit's top-k: photo number in the index, value, flat position."""

    photo: int
    value: float
    position: int


def index_entries(index: PhotoIndex, location: UnitLocation) -> list[Entry]:
    """The unit's top-k entries in ``index`` (empty slots dropped), best first."""
    slot = index.slot(f"{location.unit.module}.{location.unit.branch}")
    if location.branch_channels != slot.channels:
        raise ValueError(f"{slot.key}: the index has {slot.channels} channels, the model {location.branch_channels}")
    row = slot.offset + location.unit.channel
    return [Entry(int(p), float(v), int(q)) for v, p, q in
            zip(index.top.values[row], index.top.photos[row], index.top.positions[row]) if p >= 0]


def index_examples(index: PhotoIndex, location: UnitLocation, geometry: UnitGeometry, *,
                   index_path: Optional[Path] = None, limits: ImageLimits = DEFAULT_LIMITS,
                   spec: Preprocess = PREPROCESS) -> list[Example]:
    """The unit's top-k crops, cut from the photos again (a photo that is gone keeps its row, without an image)."""
    examples = []
    for entry in index_entries(index, location):
        y, x = geometry.yx(entry.position)
        box = geometry.box(y, x)
        path = index.photo_path(entry.photo, index_path)
        try:
            image = crop_at(center_crop(open_image(path, limits), spec), box)
        except (ImageInputError, OSError) as exc:
            log.warning("dataset example %s: %s", path, exc)
            image = None
        examples.append(Example(index.photos[entry.photo], entry.value, (y, x), box, image))
    return examples


@dataclass(frozen=True)
class FiringMap:
    """A unit's activation on one photo: its map on the grid and upsampled to the input, for an overlay."""

    grid_map: np.ndarray  # H x W float32, the branch output's channel
    upsampled: np.ndarray  # 224 x 224 float32, bilinear
    geometry: UnitGeometry

    @property
    def maximum(self) -> float:
        return float(self.grid_map.max())


def firing_map(model: GoogLeNet, x: Tensor, location: UnitLocation) -> FiringMap:
    """One forward pass of ``x`` (1 x 3 x 224 x 224) without hooks; the unit's map, raw and upsampled."""
    captured, _ = capture_tensors(model, x[:1])
    unit = location.unit
    part = captured.branches[unit.module][BRANCHES.index(unit.branch)]  # 1 x C_b x H x W
    channel = part[:, unit.channel:unit.channel + 1].float()  # 1 x 1 x H x W
    size = (int(x.shape[2]), int(x.shape[3]))
    up = F.interpolate(channel, size=size, mode="bilinear", align_corners=False)  # 1 x 1 x 224 x 224
    grid_map = channel[0, 0].contiguous().cpu().numpy()
    geometry = unit_geometry(model, f"{unit.module}.{unit.branch}", (grid_map.shape[0], grid_map.shape[1]), size[0])
    return FiringMap(grid_map, up[0, 0].cpu().numpy(), geometry)


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0: apart, 1: the same)."""
    w = max(0, min(a.right, b.right) - max(a.left, b.left))
    h = max(0, min(a.bottom, b.bottom) - max(a.top, b.top))
    inter = w * h
    union = a.size[0] * a.size[1] + b.size[0] * b.size[1] - inter
    return inter / union if union else 0.0


def top_positions(fired: FiringMap, n: int = 4, max_overlap: float = 0.5) -> list[tuple[int, int]]:
    """The ``n`` strongest positions of a map whose crops overlap the crops of stronger ones by at most
    ``max_overlap`` (intersection over union): a crop that mostly repeats a stronger one shows the same thing
    again. Deep units, whose clipped fields all cover the whole input, give one."""
    values = torch.from_numpy(fired.grid_map)
    order = torch.argsort(values.flatten(), descending=True, stable=True).tolist()
    chosen: list[tuple[int, int]] = []
    boxes: list[Box] = []
    for flat in order:
        y, x = fired.geometry.yx(flat)
        box = fired.geometry.box(y, x)
        if all(overlap(box, other) <= max_overlap for other in boxes):
            chosen.append((y, x))
            boxes.append(box)
            if len(chosen) == n:
                break
    return chosen


def ranked(examples: Sequence[Example], k: int) -> list[Example]:
    """The best ``k`` of several sources (an index's and the current photo's), value first, stable otherwise."""
    return sorted(examples, key=lambda e: -e.value)[:k]
