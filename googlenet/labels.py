"""ImageNet category names, taken from torchvision's weights metadata (never copied by hand), and their
translations (``locales/imagenet_classes_<lang>.tsv``, checked against that metadata when loaded).

The page shows a class as "Korean (English)" in Korean ("얼룩 고양이 (tabby)") and by its English name otherwise;
JSON results always carry the English name and the index (:data:`CATEGORIES`), whatever the reader's language.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Optional, Sequence

from torchvision.models import GoogLeNet_Weights

from .messages import DEFAULT_LANGUAGE, LOCALES_DIR, KeyedError

__all__ = ["CATEGORIES", "NUM_CLASSES", "UnknownClass", "ClassNamesError", "TRANSLATED_LANGUAGES", "category_name",
           "category_index", "class_names_file", "load_class_names", "translated_names", "display_names",
           "display_name", "shown_name"]

CATEGORIES: tuple[str, ...] = tuple(GoogLeNet_Weights.IMAGENET1K_V1.meta["categories"])
NUM_CLASSES: int = len(CATEGORIES)
_INDEX = {name: i for i, name in enumerate(CATEGORIES)}

#: Languages with a class-name file beside their locale file.
TRANSLATED_LANGUAGES: tuple[str, ...] = ("ko",)
_HEADER = ("index", "english", "korean")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


class UnknownClass(KeyedError, ValueError):
    """A class given by index or name that is not one of the 1,000 ImageNet classes."""


class ClassNamesError(KeyedError, ValueError):
    """A class-name file that does not give one real translation per category of the weights, in their order."""


def category_name(index: int) -> str:
    """The name of ImageNet class ``index`` (0..999)."""
    if not 0 <= index < NUM_CLASSES:
        raise UnknownClass("errors.class_index_range", index=index, last=NUM_CLASSES - 1)
    return CATEGORIES[index]


def category_index(name_or_index: str | int) -> int:
    """Accept a class index, an index as text ("281"), a class name ("tabby"), "281: tabby", or a name as the
    page shows it in another language ("얼룩 고양이 (tabby)", "얼룩 고양이")."""
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
    for lang in TRANSLATED_LANGUAGES:
        for names in (display_names(lang), translated_names(lang) or ()):
            if text in names:
                return names.index(text)
    raise UnknownClass("errors.unknown_class", value=text)


def class_names_file(lang: str) -> Path:
    """Where the class names of ``lang`` live: beside the locale files."""
    return LOCALES_DIR / f"imagenet_classes_{lang}.tsv"


def load_class_names(path: Path, categories: Sequence[str] = CATEGORIES) -> tuple[str, ...]:
    """The translated names of a ``index<TAB>english<TAB>korean`` file (a header line first), checked row by row:
    one row per category of ``categories``, in their order, with the same English name, and a non-empty name with
    Hangul in it. The first problem is raised as a :class:`ClassNamesError` naming the file and the line."""
    file = Path(path).name
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ClassNamesError("classes.unreadable", file=file, reason=type(exc).__name__) from exc
    if not lines or tuple(lines[0].split("\t")) != _HEADER:
        raise ClassNamesError("classes.bad_header", file=file, header="\\t".join(_HEADER))
    while len(lines) > 1 and not lines[-1].strip():  # a trailing newline or two is not a row
        lines.pop()
    names: list[str] = []
    for line_number, line in enumerate(lines[1:], start=2):
        parts = line.split("\t")
        if len(parts) != 3:
            raise ClassNamesError("classes.bad_row", file=file, line=line_number, columns=len(parts))
        index_text, english, translated = (part.strip() for part in parts)
        expected = len(names)
        if expected >= len(categories):
            raise ClassNamesError("classes.extra_row", file=file, line=line_number, count=len(categories))
        if index_text != str(expected):  # a missing or repeated row shows here, at the first line out of order
            raise ClassNamesError("classes.wrong_index", file=file, line=line_number, index=index_text,
                                  expected=expected)
        if english != categories[expected]:
            raise ClassNamesError("classes.wrong_english", file=file, line=line_number, index=expected,
                                  english=english, expected=categories[expected])
        if not translated:
            raise ClassNamesError("classes.empty_name", file=file, line=line_number, index=expected,
                                  english=english)
        if not _HANGUL.search(translated):
            raise ClassNamesError("classes.no_hangul", file=file, line=line_number, index=expected, name=translated)
        names.append(translated)
    if len(names) != len(categories):
        raise ClassNamesError("classes.missing_rows", file=file, found=len(names), count=len(categories))
    return tuple(names)


@functools.cache
def translated_names(lang: str) -> Optional[tuple[str, ...]]:
    """The 1,000 class names in ``lang``, in the weights' order (checked; read once per process), or None for a
    language without a class-name file (English: the names are the categories themselves)."""
    if lang not in TRANSLATED_LANGUAGES:
        return None
    return load_class_names(class_names_file(lang))


@functools.cache
def _display_names(lang: str) -> tuple[str, ...]:
    translated = translated_names(lang)
    if translated is None:
        return CATEGORIES
    return tuple(f"{name} ({english})" for name, english in zip(translated, CATEGORIES))


def display_names(lang: str = DEFAULT_LANGUAGE, categories: Sequence[str] = CATEGORIES) -> tuple[str, ...]:
    """Every class as the page shows it in ``lang``: "얼룩 고양이 (tabby)" in Korean, "tabby" in English. The
    translations belong to the weights' own categories: any other list of categories (custom weights with other
    classes) is shown as it is."""
    if tuple(categories) != CATEGORIES:
        return tuple(categories)
    return _display_names(lang)


def display_name(index: int, lang: str = DEFAULT_LANGUAGE) -> str:
    """Class ``index`` as the page shows it in ``lang`` (see :func:`display_names`)."""
    category_name(index)
    return _display_names(lang)[index]


def shown_name(index: int, name: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A scored class as the page shows it in ``lang``: translated when ``name`` is the weights' category
    ``index``, as it is otherwise (a head or a caller with categories of its own)."""
    if 0 <= index < NUM_CLASSES and CATEGORIES[index] == name:
        return _display_names(lang)[index]
    return name
