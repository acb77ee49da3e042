"""The page's languages: the locale files as ``gr.I18n`` for component labels, and ``tr`` for server-written text.

Component labels and Markdown are ``I18n`` keys that the browser translates by its own language
(``navigator.language``); text the server writes into results (summaries, figures, errors) is chosen from the
request's ``Accept-Language`` header (:func:`request_language`). Both come from the same ``locales/*.json``
(:mod:`googlenet.messages`).
"""

from __future__ import annotations

import functools
from typing import Optional

import gradio as gr

from googlenet.messages import DEFAULT_LANGUAGE, LANGUAGES, catalog, tr

__all__ = ["LANGUAGES", "i18n", "label", "tr", "language_from_header", "request_language", "toast_title_css"]


@functools.cache
def i18n() -> gr.I18n:
    """Every locale file as one ``gr.I18n`` (passed to ``launch``; built once)."""
    return gr.I18n(**{lang: dict(catalog(lang)) for lang in LANGUAGES})


def label(key: str) -> gr.i18n.I18nData:
    """A component label, placeholder or Markdown text that the browser translates. One key per string: Gradio's
    front end translates only the first key embedded in a longer string."""
    return i18n()(key)


def language_from_header(accept_language: Optional[str]) -> str:
    """Pick a supported language from an HTTP Accept-Language header (highest q first; default English)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked = []
    for i, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";q=")
        tag = pieces[0].strip().lower()
        try:
            q = float(pieces[1]) if len(pieces) > 1 else 1.0
        except ValueError:
            q = 0.0
        ranked.append((-q, i, tag.split("-")[0]))
    for _, _, lang in sorted(ranked):
        if lang in LANGUAGES:
            return lang
    return DEFAULT_LANGUAGE


def request_language(request: Optional[gr.Request]) -> str:
    """The language for server-written text: from the request's Accept-Language header."""
    headers = getattr(request, "headers", None) if request is not None else None
    return language_from_header(headers.get("accept-language") if headers is not None else None)


def toast_title_css() -> str:
    """Gradio 6's toasts head every message with its type in English ("Error", ignoring gr.Error(title=...)).
    The front end sets <html lang> to the browser's locale, so CSS can swap in the translated heading."""
    rules = []
    for lang in LANGUAGES:
        if lang == DEFAULT_LANGUAGE:
            continue
        for kind in ("error", "warning", "info", "success"):
            text = tr(f"common.toast_{kind}", lang).replace('"', "")
            rules.append(f'html:lang({lang}) .toast-title.{kind} {{ font-size: 0 !important; }}\n'
                         f'html:lang({lang}) .toast-title.{kind}::before {{ content: "{text}"; '
                         f'font-size: var(--text-lg); }}')
    return "\n".join(rules)
