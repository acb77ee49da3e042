"""Every piece of text the page shows, in English and Korean.

``app.py`` passes :data:`TRANSLATIONS` to ``gr.I18n`` for component labels (the browser's language picks the
locale) and uses :func:`tr` for text the server writes into results (the request's Accept-Language picks it).

Each feature keeps its strings in its own section dict below; :data:`TRANSLATIONS` merges them. Keys are
``section.name``. Plain text only: no Gradio import here.
"""

from __future__ import annotations

from typing import Mapping, Optional

__all__ = ["TRANSLATIONS", "LANGUAGES", "tr", "language_from_header"]

LANGUAGES: tuple[str, ...] = ("en", "ko")

# --- shared page chrome ----------------------------------------------------------------------------------------
COMMON: dict[str, dict[str, str]] = {
    "en": {
        "common.title": "GoogLeNet Explorer",
        "common.subtitle": "Upload a photo and see what pretrained GoogLeNet (Inception v1) answers, and why.",
        "common.image": "Photo",
        "common.examples": "Example photos",
        "common.run": "Classify",
        "common.no_image": "Upload a photo first (or pick an example).",
        "common.untrained_banner": "⚠️ Untrained weights: predictions are meaningless.",
        "common.weights": "Weights",
        "common.device": "Device",
    },
    "ko": {
        "common.title": "GoogLeNet 탐색기",
        "common.subtitle": "사진을 올리면 사전 학습된 GoogLeNet(Inception v1)이 무엇이라고 답하는지, 왜 그렇게 답했는지 보여 줍니다.",
        "common.image": "사진",
        "common.examples": "예시 사진",
        "common.run": "분류하기",
        "common.no_image": "먼저 사진을 올리세요(또는 예시를 고르세요).",
        "common.untrained_banner": "⚠️ 학습되지 않은 가중치: 예측에 의미가 없습니다.",
        "common.weights": "가중치",
        "common.device": "장치",
    },
}

# --- classify tab --------------------------------------------------------------------------------------------------
CLASSIFY: dict[str, dict[str, str]] = {
    "en": {
        "classify.tab": "Classify",
        "classify.top5": "Top-5 ImageNet classes",
        "classify.crop": "What the network saw (224x224 centre crop)",
        "classify.details": "Details",
        "classify.raw": "Raw result (JSON)",
        "classify.info": "**Weights:** {weights} · **Device:** {device} · **Time:** {ms:.0f} ms",
        "classify.explain": (
            "The photo is resized so its short side is 256 pixels, then the central 224x224 square is cut out and "
            "normalized with ImageNet's mean and standard deviation: that square is all the network sees. "
            "The bars are softmax probabilities over the 1,000 ImageNet classes."
        ),
    },
    "ko": {
        "classify.tab": "분류",
        "classify.top5": "상위 5개 ImageNet 클래스",
        "classify.crop": "네트워크가 본 이미지(224x224 중앙 자르기)",
        "classify.details": "자세히",
        "classify.raw": "원본 결과(JSON)",
        "classify.info": "**가중치:** {weights} · **장치:** {device} · **시간:** {ms:.0f} ms",
        "classify.explain": (
            "사진의 짧은 변을 256픽셀로 맞춘 뒤 가운데 224x224 정사각형을 잘라 ImageNet의 평균과 표준편차로 "
            "정규화합니다. 네트워크가 보는 것은 이 정사각형뿐입니다. 막대는 1,000개 ImageNet 클래스에 대한 "
            "소프트맥스 확률입니다."
        ),
    },
}

# --- inception branches tab (issue 3) ---------------------------------------------------------------------------
BRANCHES: dict[str, dict[str, str]] = {"en": {}, "ko": {}}

# --- attributions tab (issue 4) ---------------------------------------------------------------------------------
ATTRIBUTIONS: dict[str, dict[str, str]] = {"en": {}, "ko": {}}

# --- auxiliary heads tab (issue 5) ------------------------------------------------------------------------------
AUX: dict[str, dict[str, str]] = {"en": {}, "ko": {}}

# --- input errors and limits (issue 6) --------------------------------------------------------------------------
ERRORS: dict[str, dict[str, str]] = {"en": {}, "ko": {}}

# --- report export, about, classroom notes (issue 8) ------------------------------------------------------------
CLASSROOM: dict[str, dict[str, str]] = {"en": {}, "ko": {}}

_SECTIONS = (COMMON, CLASSIFY, BRANCHES, ATTRIBUTIONS, AUX, ERRORS, CLASSROOM)


def _merge() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for section in _SECTIONS:
        for lang in LANGUAGES:
            overlap = merged[lang].keys() & section[lang].keys()
            if overlap:
                raise ValueError(f"duplicate translation keys: {sorted(overlap)}")
            merged[lang].update(section[lang])
    return merged


TRANSLATIONS: dict[str, dict[str, str]] = _merge()


def language_from_header(accept_language: Optional[str]) -> str:
    """Pick "ko" or "en" from an HTTP Accept-Language header (first supported language wins; default English)."""
    if not accept_language:
        return "en"
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
    return "en"


def tr(key: str, lang: str = "en", /, **values: object) -> str:
    """The text for ``key`` in ``lang`` (English if missing there), formatted with ``values``."""
    table: Mapping[str, str] = TRANSLATIONS.get(lang, TRANSLATIONS["en"])
    text = table.get(key) or TRANSLATIONS["en"].get(key)
    if text is None:
        raise KeyError(f"no text for {key!r}")
    return text.format(**values) if values else text
