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
# The English texts equal googlenet.images.MESSAGES_EN (what the CLI and logs print); a test keeps them in step.
ERRORS: dict[str, dict[str, str]] = {
    "en": {
        "errors.too_many_pixels": (
            "This image is {width}x{height} pixels ({megapixels} megapixels); the limit is {limit} megapixels. "
            "Please upload a smaller version."
        ),
        "errors.too_many_pixels_count": (
            "This image declares {megapixels} megapixels; the limit is {limit} megapixels. "
            "Please upload a smaller version."
        ),
        "errors.empty_file": "The file is empty (0 bytes). Please upload a photo.",
        "errors.file_gone": "The uploaded file is no longer on the server. Please upload the photo again.",
        "errors.svg": "SVG drawings are not supported. Please export it as PNG or JPEG and upload that.",
        "errors.heic": (
            "HEIC/HEIF photos (the iPhone default) are not supported. Please convert it to JPEG or PNG "
            "(on an iPhone: Settings > Camera > Formats > Most Compatible)."
        ),
        "errors.avif": "AVIF images are not supported. Please convert it to JPEG or PNG.",
        "errors.pdf": "This is a PDF document, not a photo. Please upload an image file.",
        "errors.unsupported_format": (
            "This file is not an image format we support ({found}). Supported formats: {formats}."
        ),
        "errors.not_an_image": "This file is not an image we can read. Supported formats: {formats}.",
        "errors.corrupt": (
            "This {format} file is damaged or incomplete and cannot be decoded. Please upload the photo again "
            "or try another file."
        ),
        "errors.notice_animated": "This is an animated image: only its first frame was used.",
        "errors.notice_tiny": (
            "This image is only {width}x{height} pixels, smaller than the network's minimum of {min_w}x{min_h}: "
            "it was enlarged, so there is almost nothing for the network to see."
        ),
        "errors.notice_elongated": (
            "This image is very elongated ({width}x{height}): the network sees only a square from its middle."
        ),
    },
    "ko": {
        "errors.too_many_pixels": (
            "이 이미지는 {width}x{height} 픽셀({megapixels}메가픽셀)로, 허용 한도인 {limit}메가픽셀을 넘습니다. "
            "더 작은 크기로 올려 주세요."
        ),
        "errors.too_many_pixels_count": (
            "이 이미지는 크기가 {megapixels}메가픽셀로 적혀 있어 허용 한도인 {limit}메가픽셀을 넘습니다. "
            "더 작은 크기로 올려 주세요."
        ),
        "errors.empty_file": "빈 파일입니다(0바이트). 사진을 올려 주세요.",
        "errors.file_gone": "올린 파일이 서버에 더 이상 없습니다. 사진을 다시 올려 주세요.",
        "errors.svg": "SVG 그림은 지원하지 않습니다. PNG나 JPEG로 내보낸 뒤 올려 주세요.",
        "errors.heic": (
            "HEIC/HEIF 사진(아이폰 기본 형식)은 지원하지 않습니다. JPEG나 PNG로 변환해 주세요"
            "(아이폰: 설정 > 카메라 > 포맷 > 높은 호환성)."
        ),
        "errors.avif": "AVIF 이미지는 지원하지 않습니다. JPEG나 PNG로 변환해 주세요.",
        "errors.pdf": "이 파일은 사진이 아니라 PDF 문서입니다. 이미지 파일을 올려 주세요.",
        "errors.unsupported_format": "지원하지 않는 이미지 형식입니다({found}). 지원 형식: {formats}.",
        "errors.not_an_image": "이 파일은 읽을 수 있는 이미지가 아닙니다. 지원 형식: {formats}.",
        "errors.corrupt": (
            "이 {format} 파일은 손상되었거나 일부가 잘려 있어 읽을 수 없습니다. 사진을 다시 올리거나 "
            "다른 파일을 사용해 주세요."
        ),
        "errors.notice_animated": "움직이는 이미지입니다. 첫 번째 프레임만 사용했습니다.",
        "errors.notice_tiny": (
            "이 이미지는 {width}x{height} 픽셀로, 네트워크의 최소 입력 크기인 {min_w}x{min_h}보다 작습니다. "
            "확대해서 사용했으므로 네트워크가 알아볼 정보가 거의 없습니다."
        ),
        "errors.notice_elongated": (
            "이 이미지는 매우 길쭉합니다({width}x{height}). 네트워크는 가운데의 정사각형 부분만 봅니다."
        ),
    },
}

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
