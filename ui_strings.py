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
CLASSROOM: dict[str, dict[str, str]] = {
    "en": {
        "classroom.about": "About GoogLeNet and this page",
        "classroom.about_text": (
            "**GoogLeNet** (Szegedy et al., *Going deeper with convolutions*, 2014) won the ImageNet 2014 "
            "classification challenge. It is 22 layers deep (counting layers with weights) yet has only about "
            "6.6 million parameters, far fewer than AlexNet's 60 million. It answers with one of the 1,000 "
            "ImageNet classes, the only things it knows.\n\n"
            "Its building block is the **Inception module**: four branches look at the same input side by side "
            "(a 1x1 convolution; a 1x1 reduction then a 3x3; a 1x1 reduction then a larger kernel, which is also "
            "3x3 in torchvision's checkpoint even though the paper and code call it \"5x5\"; and a 3x3 max-pool "
            "then a 1x1), and their outputs are stacked along the channel axis. The cheap 1x1 convolutions shrink "
            "the number of channels before the expensive kernels, which keeps the network small. Nine modules "
            "(3a, 3b, 4a to 4e, 5a, 5b) are stacked, with max-pooling between the groups that halves the image.\n\n"
            "During training, two small **auxiliary classifiers** after 4a and 4d added extra error signal to the "
            "middle of the network; they are not used to answer. torchvision ships them untrained.\n\n"
            "The weights used here are torchvision's ImageNet weights (about 69.8% top-1 and 89.5% top-5 accuracy "
            "on the ImageNet validation set)."
        ),
        "classroom.howto": (
            "**How to read this page**\n\n"
            "1. Upload a photo or click an example.\n"
            "2. *Classify* shows the five classes the network finds most likely and the 224x224 square it "
            "actually looked at: anything outside that square is invisible to it. A high percentage means the "
            "network is confident, not that it is right.\n"
            "3. The other tabs open the network up; each one says what its picture shows and what it does not.\n"
            "4. *Export report* saves a one-page summary to hand out.\n\n"
            "The page follows your browser's language (English or Korean)."
        ),
        "classroom.toast_error": "Error",
        "classroom.toast_warning": "Warning",
        "classroom.toast_info": "Info",
        "classroom.toast_success": "Success",
        "classroom.weights_official": "official torchvision IMAGENET1K_V1 weights (verified)",
        "classroom.weights_custom": "custom weights ({name}, sha256 {sha})",
        "classroom.weights_untrained": "untrained weights: predictions are meaningless",
        "classroom.report": "Export report",
        "classroom.report_format": "Report format",
        "classroom.report_file": "Report (one page)",
        "classroom.report_explain": (
            "A one-page summary of this photo's analysis (prediction, crop, weights status) as PNG or PDF, "
            "to print, hand out or archive."
        ),
        "classroom.report_done": "Report ready: {name}",
        "classroom.report_bad_format": "Unknown report format {fmt!r}: choose PNG or PDF.",
        "classroom.r_title": "GoogLeNet Explorer: analysis report",
        "classroom.r_photo": "Photo: {name}",
        "classroom.r_created": "Created {date}",
        "classroom.r_prediction": "Prediction: top-5 ImageNet classes",
        "classroom.r_crop": "What the network saw (224x224 centre crop)",
        "classroom.r_branches": "Inception branches: overview",
        "classroom.r_attribution": "Attribution",
        "classroom.r_weights": "Weights",
        "classroom.r_missing_branches": (
            "Not included: the branch overview was not computed for this photo (open the Inception branches tab)."
        ),
        "classroom.r_missing_attribution": "Not included: no attribution was computed for this photo.",
        "classroom.r_attribution_note": (
            "An attribution map shows which pixels one method found the score most sensitive to. It does not "
            "prove what the network understood, and different methods can disagree."
        ),
        "classroom.r_footer": "GoogLeNet (Inception v1) · 1,000 ImageNet classes · made with GoogLeNet Explorer",
    },
    "ko": {
        "classroom.about": "GoogLeNet과 이 페이지에 대하여",
        "classroom.about_text": (
            "**GoogLeNet**(Szegedy 외, *Going deeper with convolutions*, 2014)은 2014년 ImageNet 분류 대회에서 "
            "우승한 신경망입니다. 가중치가 있는 층만 세어도 22층으로 깊지만, 매개변수는 약 660만 개로 AlexNet의 "
            "6,000만 개보다 훨씬 적습니다. 답은 언제나 ImageNet의 1,000개 클래스 중 하나이며, 네트워크가 아는 것은 "
            "이 클래스들뿐입니다.\n\n"
            "기본 구성 단위는 **인셉션 모듈**입니다. 같은 입력을 네 개의 가지가 나란히 살펴봅니다. 1x1 합성곱, "
            "1x1 축소 뒤 3x3 합성곱, 1x1 축소 뒤 더 큰 커널(논문과 코드에서는 \"5x5\"라고 부르지만 torchvision "
            "체크포인트에서는 실제로 3x3입니다), 그리고 3x3 최대 풀링 뒤 1x1 합성곱입니다. 네 가지의 출력은 채널 "
            "방향으로 이어 붙여집니다. 연산이 가벼운 1x1 합성곱이 비싼 커널 앞에서 채널 수를 줄여 주기 때문에 "
            "네트워크가 작게 유지됩니다. 모듈 아홉 개(3a, 3b, 4a~4e, 5a, 5b)가 쌓여 있고, 모듈 묶음 사이의 최대 "
            "풀링이 이미지 크기를 절반으로 줄입니다.\n\n"
            "학습할 때에는 4a와 4d 뒤에 붙은 작은 **보조 분류기** 두 개가 네트워크 중간에 오차 신호를 더해 "
            "주었습니다. 보조 분류기는 답을 내는 데 쓰이지 않으며, torchvision은 이를 학습되지 않은 상태로 "
            "제공합니다.\n\n"
            "여기서 쓰는 가중치는 torchvision의 ImageNet 가중치입니다(ImageNet 검증 세트에서 top-1 정확도 약 "
            "69.8%, top-5 정확도 약 89.5%)."
        ),
        "classroom.howto": (
            "**이 페이지 읽는 법**\n\n"
            "1. 사진을 올리거나 예시를 누르세요.\n"
            "2. *분류* 탭은 네트워크가 가장 그럴듯하다고 본 다섯 클래스와, 실제로 본 224x224 정사각형을 "
            "보여 줍니다. 이 정사각형 밖의 것은 네트워크에게 보이지 않습니다. 확률이 높다는 것은 네트워크가 "
            "확신한다는 뜻이지, 맞았다는 뜻은 아닙니다.\n"
            "3. 다른 탭들은 네트워크 내부를 보여 주며, 각 탭에 그림이 보여 주는 것과 보여 주지 않는 것이 "
            "적혀 있습니다.\n"
            "4. *보고서 내보내기*는 나눠 줄 수 있는 한 쪽짜리 요약을 저장합니다.\n\n"
            "페이지 언어는 브라우저 언어(영어 또는 한국어)를 따릅니다."
        ),
        "classroom.toast_error": "오류",
        "classroom.toast_warning": "경고",
        "classroom.toast_info": "알림",
        "classroom.toast_success": "완료",
        "classroom.weights_official": "torchvision 공식 IMAGENET1K_V1 가중치(검증됨)",
        "classroom.weights_custom": "사용자 가중치({name}, sha256 {sha})",
        "classroom.weights_untrained": "학습되지 않은 가중치: 예측에 의미가 없습니다",
        "classroom.report": "보고서 내보내기",
        "classroom.report_format": "보고서 형식",
        "classroom.report_file": "보고서(한 쪽)",
        "classroom.report_explain": (
            "이 사진의 분석 결과(예측, 잘라 낸 이미지, 가중치 상태)를 한 쪽짜리 PNG 또는 PDF로 저장합니다. "
            "인쇄하거나 나눠 주거나 보관할 수 있습니다."
        ),
        "classroom.report_done": "보고서가 준비되었습니다: {name}",
        "classroom.report_bad_format": "알 수 없는 보고서 형식 {fmt!r}입니다. PNG 또는 PDF를 고르세요.",
        "classroom.r_title": "GoogLeNet 탐색기: 분석 보고서",
        "classroom.r_photo": "사진: {name}",
        "classroom.r_created": "작성 {date}",
        "classroom.r_prediction": "예측: 상위 5개 ImageNet 클래스",
        "classroom.r_crop": "네트워크가 본 이미지(224x224 중앙 자르기)",
        "classroom.r_branches": "인셉션 가지: 개요",
        "classroom.r_attribution": "기여도",
        "classroom.r_weights": "가중치",
        "classroom.r_missing_branches": (
            "포함되지 않음: 이 사진의 가지 개요를 계산하지 않았습니다(인셉션 가지 탭을 여세요)."
        ),
        "classroom.r_missing_attribution": "포함되지 않음: 이 사진의 기여도를 계산하지 않았습니다.",
        "classroom.r_attribution_note": (
            "기여도 지도는 한 가지 방법으로 보았을 때 점수가 어떤 픽셀에 가장 민감했는지를 보여 줍니다. "
            "네트워크가 무엇을 이해했는지를 증명하지는 않으며, 방법마다 결과가 다를 수 있습니다."
        ),
        "classroom.r_footer": "GoogLeNet(Inception v1) · ImageNet 1,000개 클래스 · GoogLeNet 탐색기로 작성",
    },
}

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
