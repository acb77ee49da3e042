"""Keyed messages: every sentence the package can show a person is a key into the locale files plus parameters.

The texts live in ``locales/<lang>.json`` (English and Korean, the same keys; the web UI loads the same files into
``gr.I18n``). The package never builds an English sentence for a user or an operator: it raises a
:class:`KeyedError` (or returns a :class:`Message`) carrying the key and the values the sentence needs, and whoever
shows it picks the language: the web UI the request's, the command line and the logs English (``str(exc)``).

What stays a plain exception: a programming error by the caller of a function (a wrong type, a tensor of the wrong
shape), which no user input can cause and no user is meant to read.

A parameter may itself be a :class:`Message` (e.g. the name of an attribution method inside a budget error), or a
sequence of them (joined by commas): it is rendered in the same language as the sentence around it.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "LOCALES_DIR", "Message", "KeyedError", "catalog", "tr", "has_key"]

log = logging.getLogger(__name__)

#: The languages of the locale files, the default first.
LANGUAGES: tuple[str, ...] = ("en", "ko")
DEFAULT_LANGUAGE = "en"
#: ``locales/`` at the root of the repository: one JSON object of ``key -> text`` per language.
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


@functools.cache
def catalog(lang: str) -> Mapping[str, str]:
    """Every text of one language (read once per process)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; the locale files are {', '.join(LANGUAGES)}")
    with open(LOCALES_DIR / f"{lang}.json", encoding="utf-8") as handle:
        texts = json.load(handle)
    if not isinstance(texts, dict) or not all(isinstance(v, str) for v in texts.values()):
        raise ValueError(f"{LOCALES_DIR / (lang + '.json')} must be one JSON object of strings")
    return texts


def has_key(key: str) -> bool:
    return key in catalog(DEFAULT_LANGUAGE)


def tr(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """The text of ``key`` in ``lang`` (English where that language lacks it), formatted with ``params``.

    ``Message`` parameters are rendered in ``lang`` first. Unknown languages fall back to English.
    """
    table = catalog(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    text = table.get(key)
    if text is None:
        text = catalog(DEFAULT_LANGUAGE).get(key)
        if text is None:
            raise KeyError(f"no text for {key!r} in {LOCALES_DIR}")
    if not params:
        return text
    return text.format(**{name: _rendered(value, lang) for name, value in params.items()})


def _rendered(value: Any, lang: str) -> Any:
    """A parameter as it goes into a sentence: messages in ``lang``, a sequence of messages joined by commas."""
    if isinstance(value, Message):
        return value.text(lang)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Message) for v in value):
        return ", ".join(v.text(lang) for v in value)
    return value


@dataclass(frozen=True)
class Message:
    """A sentence to show someone: a locale key and its parameters, rendered in whatever language is asked."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return tr(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.text(DEFAULT_LANGUAGE)


class KeyedError(Exception):
    """An error whose message is a locale key and parameters; ``str(exc)`` is the English text (CLI, logs).

    Subclasses name the kind of problem (bad image, bad attribution settings, unusable weights file) so callers can
    catch what they can handle; the web UI shows any of them in the request's language.
    """

    def __init__(self, key: str, /, **params: Any) -> None:
        if not has_key(key):
            raise KeyError(f"unknown message key {key!r}: add it to every file in {LOCALES_DIR}")
        self.message = Message(key, dict(params))
        super().__init__(self.message.text(DEFAULT_LANGUAGE))

    @property
    def key(self) -> str:
        return self.message.key

    @property
    def params(self) -> Mapping[str, Any]:
        return self.message.params

    def text(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return self.message.text(lang)

    def __reduce__(self) -> tuple:
        # Pickled as its class, key and parameters (the default would rebuild it from the English text): a keyed
        # error raised in a ZeroGPU worker process crosses back to the server intact.
        return _rebuild_keyed_error, (type(self), self.message.key, dict(self.message.params))


def _rebuild_keyed_error(cls: type, key: str, params: dict) -> KeyedError:
    return cls(key, **params)
