"""The words on a figure come from the locale files, like every other visible text.

Each kind of figure has a dataclass of its texts (:class:`TextSet` subclasses: one field per text, named after the
key ``<PREFIX>.<field>``), loaded for one language with :meth:`TextSet.load`. The figure code never holds a sentence
of its own, so a figure and the page around it can never say two different things.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, TypeVar

from ..messages import DEFAULT_LANGUAGE, tr

__all__ = ["TextSet"]

T = TypeVar("T", bound="TextSet")


@dataclass(frozen=True)
class TextSet:
    """Base of the per-figure text sets. ``lang`` is kept for the names drawn from the model (branch names)."""

    PREFIX: ClassVar[str] = ""
    lang: str

    @classmethod
    def keys(cls) -> dict[str, str]:
        """Field name -> locale key, for every text of this set."""
        return {f.name: f"{cls.PREFIX}.{f.name}" for f in fields(cls) if f.name != "lang"}

    @classmethod
    def load(cls: type[T], lang: str = DEFAULT_LANGUAGE) -> T:
        return cls(lang=lang, **{name: tr(key, lang) for name, key in cls.keys().items()})
