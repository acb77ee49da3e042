"""ImageNet category names, taken from torchvision's weights metadata (never copied by hand)."""

from __future__ import annotations

from torchvision.models import GoogLeNet_Weights

from .messages import KeyedError

__all__ = ["CATEGORIES", "NUM_CLASSES", "UnknownClass", "category_name", "category_index"]

CATEGORIES: tuple[str, ...] = tuple(GoogLeNet_Weights.IMAGENET1K_V1.meta["categories"])
NUM_CLASSES: int = len(CATEGORIES)
_INDEX = {name: i for i, name in enumerate(CATEGORIES)}


class UnknownClass(KeyedError, ValueError):
    """A class given by index or name that is not one of the 1,000 ImageNet classes."""


def category_name(index: int) -> str:
    """The name of ImageNet class ``index`` (0..999)."""
    if not 0 <= index < NUM_CLASSES:
        raise UnknownClass("errors.class_index_range", index=index, last=NUM_CLASSES - 1)
    return CATEGORIES[index]


def category_index(name_or_index: str | int) -> int:
    """Accept a class index, an index as text ("281"), a class name ("tabby"), or "281: tabby"."""
    if isinstance(name_or_index, int):
        category_name(name_or_index)
        return name_or_index
    text = str(name_or_index).strip()
    head = text.split(":", 1)[0].strip()
    if head.isdigit():
        index = int(head)
        category_name(index)
        return index
    if text in _INDEX:
        return _INDEX[text]
    lowered = {name.lower(): i for name, i in _INDEX.items()}
    if text.lower() in lowered:
        return lowered[text.lower()]
    raise UnknownClass("errors.unknown_class", value=text)
