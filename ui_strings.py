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
AUX: dict[str, dict[str, str]] = {
    "en": {
        "aux.tab": "Auxiliary heads",
        "aux.intro": (
            "GoogLeNet has two extra classifiers in the middle of the network: **aux1** reads inception4a's output, "
            "**aux2** reads inception4d's. They only run in train mode. Turn train mode on to see all three heads "
            "side by side, and what train mode changes."
        ),
        "aux.train_mode": "Train mode",
        "aux.train_mode_info": "Off: eval mode, as at inference (the aux heads are not run).",
        "aux.dropout": "Dropout",
        "aux.dropout_info": "Randomly zero features, as in training.",
        "aux.seed": "Seed",
        "aux.seed_info": "Same seed, same dropout masks. Leave empty for a random one.",
        "aux.repeats": "Repeated runs (seeds seed, seed+1, ...)",
        "aux.bn_mode": "BatchNorm",
        "aux.bn.batch": "True train mode (statistics of the current batch)",
        "aux.bn.running": "Train mode with running statistics",
        "aux.batch": "BatchNorm batch",
        "aux.batch.alone": "This photo alone (1 image)",
        "aux.batch.examples": "This photo + the example photos",
        "aux.run": "Run the three heads",
        "aux.charts": "Top-5 of the main head and of both auxiliary heads",
        "aux.summary": "Agreement",
        "aux.raw": "Raw result (JSON)",
        "aux.chart.main_train": "Main head (after inception5b), train mode",
        "aux.chart.main_eval": "Main head (after inception5b), eval mode",
        "aux.chart.aux1": "aux1 (after inception4a): {status}",
        "aux.chart.aux2": "aux2 (after inception4d): {status}",
        "aux.chart.probability": "probability (mean over runs)",
        "aux.chart.eval_marker": "eval mode",
        "aux.chart.spread": "min-max over runs",
        "aux.chart.not_run": "Not run in eval mode: the aux heads are dropped at inference.",
        "aux.status.distilled": "distilled ({file})",
        "aux.status.untrained_official": "untrained (torchvision's checkpoint)",
        "aux.status.custom": "from custom weights ({file})",
        "aux.status.untrained_random": "untrained weights",
        "aux.notice.untrained_official": (
            "UNTRAINED: torchvision's checkpoint ships aux heads that were never trained. Their outputs are noise."
        ),
        "aux.notice.untrained_random": "UNTRAINED weights: the whole network is random. This chart is noise.",
        "aux.notice.mismatch": "Distilled for different base weights: these heads imitate another network.",
        "aux.note.custom": (
            "The aux heads come from the custom checkpoint {file}: they mean something only if whoever made it "
            "trained them."
        ),
        "aux.note.distilled": (
            "The aux heads were distilled from the main head ({file}, {epochs} epochs, loss {loss:.3f}): they were "
            "trained to imitate it, so agreement with the main head is expected, not a discovery."
        ),
        "aux.summary.heads": "**Aux heads:** {label}",
        "aux.summary.eval_mode": (
            "**Eval mode.** Only the main head runs; its top-1 is **{name}** ({p:.1%}). Turn train mode on to run the "
            "aux heads."
        ),
        "aux.summary.settings": (
            "**Train mode:** dropout {dropout}, BatchNorm: {bn}, BatchNorm batch of {n} image(s), "
            "seed(s) {seeds}."
        ),
        "aux.summary.on": "on",
        "aux.summary.off": "off",
        "aux.summary.eval_main": (
            "**Eval-mode main prediction:** {name} ({p:.1%}); train-mode main top-1: {train_name} ({tp:.1%}). "
            "Jensen-Shannon divergence between the two: {js:.3f} bits."
        ),
        "aux.summary.table": (
            "| Heads | Same top-1 | Same top-1 in runs | Jensen-Shannon divergence (bits, 0 = identical, 1 = disjoint) |"
        ),
        "aux.summary.yes": "yes",
        "aux.summary.no": "no",
        "aux.explain.title": "What train mode changes",
        "aux.explain.dropout": (
            "**Dropout:** in train mode, a random 20% of the 1,024 features before the main classifier, and 70% of "
            "the 1,024 hidden units in each aux head, are zeroed (the rest scaled up by 1/(1-p)); eval mode drops "
            "nothing. The seed fixes the masks, so a class can reproduce a result; repeated runs show the spread."
        ),
        "aux.explain.batchnorm": (
            "**BatchNorm:** in eval mode each layer normalizes with running averages collected during training; in "
            "true train mode it uses the mean and variance of the current batch. With one photo, that batch is the "
            "photo alone: each channel is normalized over its own positions (49 values in inception5b, 16 in the "
            "aux heads), so the input looks different to every layer; compare with the eval-mode prediction. Adding "
            "the example photos makes the statistics depend on which other images share the batch."
        ),
        "aux.explain.aux_heads": (
            "**Why aux heads:** GoogLeNet is 22 layers deep. During training the two aux heads add their own losses "
            "(weighted 0.3 in the paper) to push gradient into the middle of the network; at inference they are "
            "dropped."
        ),
        "aux.explain.safety": (
            "This page never switches the shared model into train mode (that would overwrite its BatchNorm "
            "statistics and disturb other users): it runs the layers one by one with batch statistics that are "
            "never stored, and dropout masks from a private random generator."
        ),
    },
    "ko": {
        "aux.tab": "보조 분류기",
        "aux.intro": (
            "GoogLeNet에는 네트워크 중간에 분류기가 두 개 더 있습니다. **aux1**은 inception4a의 출력을, **aux2**는 "
            "inception4d의 출력을 읽습니다. 이들은 학습 모드에서만 실행됩니다. 학습 모드를 켜면 세 분류기의 결과를 "
            "나란히 보고, 학습 모드가 무엇을 바꾸는지 확인할 수 있습니다."
        ),
        "aux.train_mode": "학습 모드",
        "aux.train_mode_info": "끄면 추론 때와 같은 평가 모드입니다(보조 분류기는 실행되지 않음).",
        "aux.dropout": "드롭아웃",
        "aux.dropout_info": "학습 때처럼 특징 일부를 무작위로 0으로 만듭니다.",
        "aux.seed": "시드",
        "aux.seed_info": "시드가 같으면 드롭아웃 마스크도 같습니다. 비워 두면 무작위 시드를 씁니다.",
        "aux.repeats": "반복 실행 횟수(시드, 시드+1, ...)",
        "aux.bn_mode": "배치 정규화",
        "aux.bn.batch": "실제 학습 모드(현재 배치의 통계)",
        "aux.bn.running": "이동 평균 통계를 쓰는 학습 모드",
        "aux.batch": "배치 정규화에 쓰는 배치",
        "aux.batch.alone": "이 사진 한 장만(이미지 1개)",
        "aux.batch.examples": "이 사진 + 예시 사진들",
        "aux.run": "세 분류기 실행",
        "aux.charts": "주 분류기와 두 보조 분류기의 상위 5개 클래스",
        "aux.summary": "일치도",
        "aux.raw": "원본 결과(JSON)",
        "aux.chart.main_train": "주 분류기(inception5b 뒤), 학습 모드",
        "aux.chart.main_eval": "주 분류기(inception5b 뒤), 평가 모드",
        "aux.chart.aux1": "aux1(inception4a 뒤): {status}",
        "aux.chart.aux2": "aux2(inception4d 뒤): {status}",
        "aux.chart.probability": "확률(반복 실행 평균)",
        "aux.chart.eval_marker": "평가 모드",
        "aux.chart.spread": "반복 실행의 최솟값-최댓값",
        "aux.chart.not_run": "평가 모드에서는 실행되지 않습니다. 보조 분류기는 추론 때 쓰지 않습니다.",
        "aux.status.distilled": "증류됨({file})",
        "aux.status.untrained_official": "학습되지 않음(torchvision 체크포인트)",
        "aux.status.custom": "사용자 가중치({file})",
        "aux.status.untrained_random": "학습되지 않은 가중치",
        "aux.notice.untrained_official": (
            "학습되지 않음: torchvision 체크포인트의 보조 분류기는 한 번도 학습되지 않았습니다. 출력은 잡음입니다."
        ),
        "aux.notice.untrained_random": "학습되지 않은 가중치: 네트워크 전체가 무작위입니다. 이 그래프는 잡음입니다.",
        "aux.notice.mismatch": "다른 기반 가중치로 증류됨: 이 보조 분류기는 다른 네트워크를 흉내 냅니다.",
        "aux.note.custom": (
            "보조 분류기는 사용자 체크포인트 {file}에서 왔습니다. 그 체크포인트를 만든 사람이 보조 분류기도 "
            "학습시켰을 때만 의미가 있습니다."
        ),
        "aux.note.distilled": (
            "보조 분류기는 주 분류기로부터 증류되었습니다({file}, {epochs} 에포크, 손실 {loss:.3f}). 주 분류기를 "
            "흉내 내도록 학습했으므로 주 분류기와 일치하는 것은 새로운 발견이 아니라 예상된 결과입니다."
        ),
        "aux.summary.heads": "**보조 분류기:** {label}",
        "aux.summary.eval_mode": (
            "**평가 모드.** 주 분류기만 실행되며, 1위는 **{name}**({p:.1%})입니다. 보조 분류기를 실행하려면 학습 "
            "모드를 켜세요."
        ),
        "aux.summary.settings": (
            "**학습 모드:** 드롭아웃 {dropout}, 배치 정규화: {bn}, 배치 정규화 배치 크기 {n}장, 시드 {seeds}."
        ),
        "aux.summary.on": "켜짐",
        "aux.summary.off": "꺼짐",
        "aux.summary.eval_main": (
            "**평가 모드의 주 분류기 예측:** {name}({p:.1%}), 학습 모드의 주 분류기 1위: {train_name}({tp:.1%}). "
            "두 분포 사이의 젠슨-섀넌 발산: {js:.3f}비트."
        ),
        "aux.summary.table": "| 분류기 | 1위 일치 | 반복 실행 중 1위 일치 비율 | 젠슨-섀넌 발산(비트, 0 = 같음, 1 = 전혀 겹치지 않음) |",
        "aux.summary.yes": "예",
        "aux.summary.no": "아니요",
        "aux.explain.title": "학습 모드가 바꾸는 것",
        "aux.explain.dropout": (
            "**드롭아웃:** 학습 모드에서는 주 분류기 앞의 특징 1,024개 중 무작위 20%와, 각 보조 분류기의 은닉 유닛 "
            "1,024개 중 70%를 0으로 만들고 나머지는 1/(1-p)배로 키웁니다. 평가 모드에서는 아무것도 버리지 않습니다. "
            "시드가 마스크를 정하므로 수업에서 같은 결과를 재현할 수 있고, 반복 실행하면 결과가 얼마나 흔들리는지 "
            "보입니다."
        ),
        "aux.explain.batchnorm": (
            "**배치 정규화:** 평가 모드에서는 각 층이 학습 중에 모아 둔 이동 평균으로 정규화하고, 실제 학습 모드에서는 "
            "현재 배치의 평균과 분산을 씁니다. 사진이 한 장이면 배치는 그 사진뿐이라 각 채널이 그 사진의 위치들만으로 "
            "정규화됩니다(inception5b에서 49개, 보조 분류기에서 16개 값). 그래서 모든 층이 입력을 다르게 보게 되니 "
            "평가 모드 예측과 비교해 보세요. 예시 사진을 함께 넣으면 통계가 같은 배치에 어떤 이미지가 있는지에 따라 "
            "달라집니다."
        ),
        "aux.explain.aux_heads": (
            "**보조 분류기가 있는 이유:** GoogLeNet은 22층 깊이입니다. 학습 중에 두 보조 분류기가 자기 손실(논문에서 "
            "가중치 0.3)을 더해 네트워크 중간까지 기울기를 밀어 넣습니다. 추론 때는 쓰지 않습니다."
        ),
        "aux.explain.safety": (
            "이 페이지는 공유 모델을 학습 모드로 바꾸지 않습니다(바꾸면 배치 정규화 통계가 덮어써지고 다른 사용자의 "
            "결과가 흔들립니다). 대신 층을 하나씩 직접 실행하며, 배치 통계는 저장하지 않고 드롭아웃 마스크는 요청마다 "
            "따로 둔 난수 생성기에서 뽑습니다."
        ),
    },
}

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
