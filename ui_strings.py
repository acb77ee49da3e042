"""Every piece of text the page shows, in English and Korean.

``app.py`` passes :data:`TRANSLATIONS` to ``gr.I18n`` for component labels (the browser's language picks the
locale) and uses :func:`tr` for text the server writes into results (the request's Accept-Language picks it).

Each feature keeps its strings in its own section dict below; :data:`TRANSLATIONS` merges them. Keys are
``section.name``. Plain text only: no Gradio import here.
"""

from __future__ import annotations

from typing import Mapping, Optional

from googlenet.images import MESSAGES_EN

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
BRANCHES: dict[str, dict[str, str]] = {
    "en": {
        "branches.tab": "Inception branches",
        "branches.fig.overview_title": "Share of each branch in each Inception module's output",
        "branches.fig.overview_axis": "share of the module's output",
        "branches.fig.measure": "measure: {measure}",
        "branches.fig.module": "module",
        "branches.fig.heatmap_title": "{module}: mean activation of each branch over its channels",
        "branches.fig.channels_title": "{module}: the {n} most active channels of each branch",
        "branches.fig.channel_label": "#{index} (out #{global_index})",
        "branches.fig.shared_scale": "one colour scale for all four branches",
        "branches.fig.per_branch_scale": "each branch has its own colour scale",
        "branches.fig.activation": "activation (after ReLU)",
        "branches.intro": (
            "An **Inception module** runs four branches side by side on the same input and stacks their outputs "
            "along the channel axis: a 1x1 convolution; a 1x1 *reduction* then a 3x3 convolution; a 1x1 reduction "
            "then the paper's \"5x5\" convolution (a **3x3** kernel in torchvision's checkpoint, a known quirk kept "
            "so the official weights load); and a 3x3 max-pool then a 1x1 *projection*. Each branch sees the image "
            "at a different scale, and the next layer decides how to mix them. The views below come from one "
            "forward pass of your photo; changing the options re-draws them without running the network again."
        ),
        "branches.module": "Module",
        "branches.measure": "Measure for the overview",
        "branches.measure.activation_sum": "share of total activation (sum)",
        "branches.measure.mean_activation": "mean activation per channel",
        "branches.measure.l2_energy": "L2 energy (sum of squares)",
        "branches.channels": "Channels per branch",
        "branches.scale": "Colour scale",
        "branches.scale.shared": "one scale for all four branches",
        "branches.scale.per_branch": "a scale per branch",
        "branches.overview": "Overview: each branch's share of each module's output",
        "branches.heatmaps": "Where each branch responded (mean over its channels, on the 224x224 crop)",
        "branches.channels_grid": "The most active channels of each branch",
        "branches.facts": "Facts about this module",
        "branches.shapes": "Output shape of every layer for this image",
        "branches.raw": "Numbers behind the overview (JSON)",
        "branches.run": "Show branches",
        "branches.measure_note": (
            "Branch outputs come after a ReLU, so every value is zero or positive. *Share of total activation* "
            "favours branches with more channels (as the next layer receives them); *mean activation per channel* "
            "removes that effect; *L2 energy* is dominated by the strongest responses."
        ),
        "branches.shapes_header_layer": "layer",
        "branches.shapes_header_shape": "output shape (C x H x W)",
        "branches.facts_header": (
            "| branch | layers | output channels | receptive field | parameters | multiply-adds |\n"
            "|---|---|---|---|---|---|"
        ),
        "branches.facts_row": "| {branch} | {layers} | {channels} | {rf}x{rf} px | {params} | {macs} |",
        "branches.facts_summary": (
            "**{module}** takes {in_channels} channels of {h}x{w} and outputs {out_channels} channels "
            "({parts}) of the same size: {params} parameters, {macs} multiply-adds for this image."
        ),
        "branches.facts_reduction": (
            "**Why the 1x1 reductions:** without them, the 3x3 branch would convolve all {in_channels} input "
            "channels directly: {without3} parameters instead of {with3} ({saved3} saved), and the \"5x5\" branch "
            "{without5} instead of {with5} ({saved5} saved). Together they cut this module's multiply-adds by "
            "{macs_saved} for this image."
        ),
        "branches.facts_kernel": (
            "**About \"5x5\":** the paper uses a 5x5 kernel in branch 3; torchvision's checkpoint has a {k}x{k} "
            "kernel there (pytorch/vision#906), and this app uses the checkpoint as it is. With a real 5x5 kernel "
            "that branch would have {paper} parameters instead of {actual}."
        ),
        "branches.facts_rf": (
            "The receptive field is how many pixels of the 224x224 input one output unit can see (kernels and "
            "strides of every layer up to here; padding ignored). Parameters count the convolution weights and the "
            "BatchNorm scale and shift; multiply-adds count the convolutions (BatchNorm folds into them)."
        ),
    },
    "ko": {
        "branches.tab": "인셉션 가지",
        "branches.fig.overview_title": "각 인셉션 모듈 출력에서 가지별 비율",
        "branches.fig.overview_axis": "모듈 출력 중 비율",
        "branches.fig.measure": "측정값: {measure}",
        "branches.fig.module": "모듈",
        "branches.fig.heatmap_title": "{module}: 가지별 채널 평균 활성값",
        "branches.fig.channels_title": "{module}: 가지별로 가장 활성화된 채널 {n}개",
        "branches.fig.channel_label": "#{index} (출력 #{global_index})",
        "branches.fig.shared_scale": "네 가지에 같은 색 척도",
        "branches.fig.per_branch_scale": "가지마다 다른 색 척도",
        "branches.fig.activation": "활성값(ReLU 이후)",
        "branches.intro": (
            "**인셉션 모듈**은 같은 입력에 네 가지(branch)를 나란히 적용하고 그 출력을 채널 방향으로 이어 붙입니다: "
            "1x1 합성곱; 1x1 *축소* 후 3x3 합성곱; 1x1 축소 후 논문의 \"5x5\" 합성곱(torchvision 체크포인트에서는 "
            "**3x3** 커널이며, 공식 가중치를 그대로 불러오기 위해 유지한 알려진 특이점입니다); 그리고 3x3 최대 "
            "풀링 후 1x1 *투영*. 각 가지는 서로 다른 크기로 이미지를 보고, 다음 층이 이들을 어떻게 섞을지 "
            "정합니다. 아래 그림은 사진 한 장의 순전파 한 번에서 나온 것이며, 옵션을 바꾸면 네트워크를 다시 "
            "실행하지 않고 다시 그립니다."
        ),
        "branches.module": "모듈",
        "branches.measure": "개요에 쓸 측정값",
        "branches.measure.activation_sum": "전체 활성값 중 비율(합)",
        "branches.measure.mean_activation": "채널당 평균 활성값",
        "branches.measure.l2_energy": "L2 에너지(제곱합)",
        "branches.channels": "가지마다 보여 줄 채널 수",
        "branches.scale": "색 척도",
        "branches.scale.shared": "네 가지에 같은 척도",
        "branches.scale.per_branch": "가지마다 따로",
        "branches.overview": "개요: 각 모듈 출력에서 가지별 비율",
        "branches.heatmaps": "각 가지가 반응한 곳(채널 평균, 224x224 잘린 이미지 위)",
        "branches.channels_grid": "가지별로 가장 강하게 활성화된 채널",
        "branches.facts": "이 모듈에 대한 사실",
        "branches.shapes": "이 이미지에서 모든 층의 출력 크기",
        "branches.raw": "개요의 수치(JSON)",
        "branches.run": "가지 보기",
        "branches.measure_note": (
            "가지 출력은 ReLU 다음이므로 모든 값이 0 이상입니다. *전체 활성값 중 비율*은 채널이 많은 가지에 "
            "유리합니다(다음 층이 받는 그대로). *채널당 평균 활성값*은 그 효과를 없애고, *L2 에너지*는 가장 강한 "
            "반응이 좌우합니다."
        ),
        "branches.shapes_header_layer": "층",
        "branches.shapes_header_shape": "출력 크기(C x H x W)",
        "branches.facts_header": (
            "| 가지 | 층 | 출력 채널 | 수용 영역 | 매개변수 | 곱셈-덧셈 |\n"
            "|---|---|---|---|---|---|"
        ),
        "branches.facts_row": "| {branch} | {layers} | {channels} | {rf}x{rf} px | {params} | {macs} |",
        "branches.facts_summary": (
            "**{module}** 모듈은 {h}x{w} 크기의 {in_channels}개 채널을 받아 같은 크기의 {out_channels}개 채널"
            "({parts})을 내보냅니다: 매개변수 {params}개, 이 이미지에서 곱셈-덧셈 {macs}회."
        ),
        "branches.facts_reduction": (
            "**1x1 축소가 있는 이유:** 축소가 없다면 3x3 가지는 입력 채널 {in_channels}개 전부에 바로 합성곱을 "
            "해야 하므로 매개변수가 {with3}개가 아니라 {without3}개가 됩니다({saved3}개 절약). \"5x5\" 가지는 "
            "{with5}개 대신 {without5}개입니다({saved5}개 절약). 둘을 합치면 이 이미지에서 이 모듈의 곱셈-덧셈이 "
            "{macs_saved}회 줄어듭니다."
        ),
        "branches.facts_kernel": (
            "**\"5x5\"에 대해:** 논문은 세 번째 가지에 5x5 커널을 씁니다. torchvision 체크포인트에는 그 자리에 "
            "{k}x{k} 커널이 있으며(pytorch/vision#906), 이 앱은 체크포인트를 그대로 씁니다. 진짜 5x5 커널이라면 "
            "그 가지의 매개변수는 {actual}개가 아니라 {paper}개입니다."
        ),
        "branches.facts_rf": (
            "수용 영역은 출력 한 칸이 224x224 입력에서 볼 수 있는 픽셀 범위입니다(여기까지 모든 층의 커널과 "
            "보폭으로 계산, 패딩은 무시). 매개변수는 합성곱 가중치와 BatchNorm의 배율·이동을 셉니다. "
            "곱셈-덧셈은 합성곱만 셉니다(BatchNorm은 합성곱에 합쳐집니다)."
        ),
    },
}

# --- attributions tab (issue 4) ---------------------------------------------------------------------------------
ATTRIBUTIONS: dict[str, dict[str, str]] = {
    "en": {
        "attributions.tab": "Attributions",
        "attributions.intro": (
            "Which pixels pushed the network's score for one class up or down? Pick a method and a target class; "
            "the map is drawn over the 224x224 crop the network saw. Every map comes with a faithfulness score, "
            "and the sanity check below tests whether the map depends on the trained weights at all."
        ),
        "attributions.method": "Method",
        "attributions.method.integrated_gradients": "Integrated Gradients",
        "attributions.method.saliency": "Saliency (gradient)",
        "attributions.method.smoothgrad": "SmoothGrad",
        "attributions.method.gradient_shap": "GradientSHAP",
        "attributions.method.occlusion": "Occlusion",
        "attributions.method.guided_backprop": "Guided Backprop",
        "attributions.method.guided_gradcam": "Guided GradCAM",
        "attributions.method.layer_gradcam": "Layer GradCAM",
        "attributions.layer": "Inception module (GradCAM methods)",
        "attributions.layer_info": "3a/3b: 28x28 cells, 4a-4e: 14x14, 5a/5b: 7x7 (coarser but closer to the decision)",
        "attributions.preset": "Preset",
        "attributions.preset.fast": "Fast",
        "attributions.preset.balanced": "Balanced",
        "attributions.preset.thorough": "Thorough",
        "attributions.target": "Target class",
        "attributions.target_info": "Type to search all 1,000 ImageNet classes",
        "attributions.target_top1": "Top-1 class (the network's answer)",
        "attributions.top5": "One click: any of the top-5",
        "attributions.display": "Display",
        "attributions.display.signed": "Signed (for / against)",
        "attributions.display.absolute": "Absolute value",
        "attributions.advanced": "Advanced settings",
        "attributions.baseline": "Baseline (what 'absent' means)",
        "attributions.baseline.black": "Black image",
        "attributions.baseline.mean": "ImageNet mean colour",
        "attributions.baseline.blur": "Blurred photo",
        "attributions.budget": "Time budget (seconds)",
        "attributions.budget_info": "Settings that would take longer are scaled down (and the page says so)",
        "attributions.steps": "Steps / samples (0 = preset)",
        "attributions.steps_info": "Integrated Gradients: integration steps; SmoothGrad, GradientSHAP: samples",
        "attributions.window": "Occlusion window, pixels (0 = preset)",
        "attributions.stride": "Occlusion stride, pixels (0 = preset)",
        "attributions.run": "Compute attribution",
        "attributions.result": "Attribution map",
        "attributions.raw": "Numbers (JSON)",
        "attributions.progress": "Attribution · {what}",
        "attributions.cost_text": (
            "**Cost:** {fwd} forward and {bwd} backward passes, plus {faith} forward passes for the faithfulness "
            "curves · about **{seconds:.0f} s** on this machine"
        ),
        "attributions.cost_note": "⚠️ {note}",
        "attributions.summary": (
            "**{method}** for class **{index}: {name}** · {fwd} forward + {bwd} backward passes · {seconds:.1f} s"
        ),
        "attributions.caption": "faithfulness {score:+.3f} (insertion {ins:.3f} − deletion {dele:.3f})",
        "attributions.delta": (
            "Integrated Gradients completeness: the map sums to {total:.4f}; f(photo) − f(baseline) = {diff:.4f}; "
            "convergence delta {delta:+.4f} (more steps make it smaller)"
        ),
        "attributions.no_methods": "Pick at least one method to compare.",
        "attributions.compare": "Compare methods",
        "attributions.compare_methods": "Methods",
        "attributions.scale": "Colour scale",
        "attributions.scale.per_map": "One scale per map",
        "attributions.scale.shared": "One shared scale",
        "attributions.scale_info": (
            "A shared scale compares magnitudes, which only mean the same for methods with the same units"
        ),
        "attributions.compare_run": "Compare",
        "attributions.sanity": "Sanity check: randomise the model",
        "attributions.sanity_help": (
            "Adebayo et al. (2018): replace the trained weights with random ones, block by block from the output "
            "down (cascading) or one block at a time (independent), and recompute the map with the same method on "
            "a private copy of the network. The curve shows the Spearman rank correlation with the original map. "
            "If it stays high, the map is showing the photo's edges, not what the network learned: it explains "
            "nothing about this model."
        ),
        "attributions.sanity_mode": "Randomisation",
        "attributions.sanity_mode.cascading": "Cascading",
        "attributions.sanity_mode.independent": "Independent",
        "attributions.sanity_run": "Run the sanity check",
        "attributions.sanity_summary.cascading": (
            "With everything down to **{block}** randomised, the rank correlation of |map| with the original is "
            "**{rho:.2f}** (1 = unchanged, 0 = unrelated) · {fwd} forward + {bwd} backward passes · {seconds:.1f} s"
        ),
        "attributions.sanity_summary.independent": (
            "Randomising **{block}** alone changed the map most: rank correlation of |map| with the original "
            "**{rho:.2f}** (1 = unchanged, 0 = unrelated) · {fwd} forward + {bwd} backward passes · {seconds:.1f} s"
        ),
        "attributions.branches": "Branch attribution: which branches of which module",
        "attributions.branch_help": (
            "Each Inception module runs four branches side by side (1x1; 3x3; the branch the paper calls 5x5, "
            "which is 3x3 in torchvision's weights; max-pool then 1x1) and concatenates them. For the target class, "
            "each cell is the attribution summed over that branch's output: gradient x activation (one pass), or "
            "layer Integrated Gradients (slower; the four values of a module add up to the score difference "
            "between the photo and the baseline). Percentages are each branch's share of its module's total. "
            "Pick a module to see where in the picture each branch contributed."
        ),
        "attributions.branch_method": "Branch method",
        "attributions.branch_method.grad_x_activation": "Gradient x activation",
        "attributions.branch_method.layer_integrated_gradients": "Layer Integrated Gradients",
        "attributions.branch_module": "Module to show",
        "attributions.branch_run": "Compute branch attribution",
        "attributions.branch_matrix": "Module x branch",
        "attributions.branch_maps": "Branch maps",
        "attributions.explain": (
            "### What an attribution map shows, and what it does not\n"
            "- It shows how the network's **score (logit) for one class** responds to the pixels, as defined by "
            "one method: the gradient (Saliency) is the local sensitivity; Integrated Gradients accumulates it on "
            "a path from a baseline and adds up to the score difference; Occlusion measures the drop when a patch "
            "is covered; GradCAM weights one module's channels by their average gradient.\n"
            "- Red means the pixels raised the class score, blue that they lowered it. Different methods answer "
            "different questions, so their maps differ; none is 'the' explanation.\n"
            "- A map does **not** prove that the network recognised the object, or why the answer is right: a "
            "plausible-looking map can come from a network with random weights (run the sanity check).\n"
            "- The faithfulness score deletes (and inserts) pixels in the map's order and follows the class "
            "probability (Petsiuk et al. 2018): insertion AUC minus deletion AUC, higher is better, a random "
            "order gives about 0. The altered images are unlike real photos, so it is evidence, not proof.\n"
            "- GradCAM maps are coarse (7x7 cells at 5a/5b), and Integrated Gradients depends on the baseline."
        ),
        "attributions.fig.signed": "signed: red = evidence for the class, blue = against",
        "attributions.fig.absolute": "absolute value (sign ignored)",
        "attributions.fig.shared_scale": "one colour scale shared by all maps",
        "attributions.fig.per_map_scale": "each map has its own colour scale",
        "attributions.fig.clip_note": "colour range clipped at the 99.5th percentile of |value|",
        "attributions.fig.deletion": "deletion (lower = more faithful)",
        "attributions.fig.insertion": "insertion (higher = more faithful)",
        "attributions.fig.fraction": "fraction of pixels removed / inserted",
        "attributions.fig.probability": "target probability",
        "attributions.fig.original": "original",
        "attributions.fig.randomised": "randomised: {block}",
        "attributions.fig.spearman_abs": "Spearman, |map|",
        "attributions.fig.spearman_signed": "Spearman, signed",
        "attributions.fig.sanity_title": "Model randomisation ({mode}): {method}",
        "attributions.fig.sanity_axis": "randomised block (cascading: and every block above it)",
        "attributions.fig.correlation": "rank correlation with the original map",
        "attributions.fig.branch_title": "Branch contributions to '{target}' ({method})",
        "attributions.fig.branch_value": "attribution to the target logit",
        "attributions.fig.module": "module",
        "attributions.fig.branch": "branch",
        "attributions.fig.branch_maps_title": "Branch maps of {module}",
    },
    "ko": {
        "attributions.tab": "기여도 분석",
        "attributions.intro": (
            "어떤 픽셀이 한 클래스에 대한 네트워크의 점수를 올리거나 내렸을까요? 방법과 대상 클래스를 고르면 "
            "네트워크가 본 224x224 이미지 위에 기여도 맵을 겹쳐 그립니다. 모든 맵에는 충실도 점수가 함께 나오고, "
            "아래의 건전성 검사로 맵이 학습된 가중치에 실제로 의존하는지 확인할 수 있습니다."
        ),
        "attributions.method": "방법",
        "attributions.method.integrated_gradients": "통합 그래디언트(Integrated Gradients)",
        "attributions.method.saliency": "세일리언시(그래디언트)",
        "attributions.method.smoothgrad": "SmoothGrad",
        "attributions.method.gradient_shap": "GradientSHAP",
        "attributions.method.occlusion": "가림(Occlusion)",
        "attributions.method.guided_backprop": "유도 역전파(Guided Backprop)",
        "attributions.method.guided_gradcam": "Guided GradCAM",
        "attributions.method.layer_gradcam": "레이어 GradCAM",
        "attributions.layer": "Inception 모듈(GradCAM 계열)",
        "attributions.layer_info": "3a/3b: 28x28 칸, 4a-4e: 14x14, 5a/5b: 7x7(더 거칠지만 결정에 더 가까움)",
        "attributions.preset": "설정 수준",
        "attributions.preset.fast": "빠르게",
        "attributions.preset.balanced": "균형",
        "attributions.preset.thorough": "정밀하게",
        "attributions.target": "대상 클래스",
        "attributions.target_info": "입력하면 ImageNet 1,000개 클래스 전체에서 찾습니다",
        "attributions.target_top1": "1순위 클래스(네트워크의 답)",
        "attributions.top5": "한 번 클릭: 상위 5개 중 하나",
        "attributions.display": "표시 방식",
        "attributions.display.signed": "부호 포함(찬성/반대)",
        "attributions.display.absolute": "절댓값",
        "attributions.advanced": "고급 설정",
        "attributions.baseline": "기준 입력('없음'의 정의)",
        "attributions.baseline.black": "검은 이미지",
        "attributions.baseline.mean": "ImageNet 평균 색",
        "attributions.baseline.blur": "흐리게 한 사진",
        "attributions.budget": "시간 예산(초)",
        "attributions.budget_info": "더 오래 걸릴 설정은 줄여서 실행하고, 그 사실을 화면에 알립니다",
        "attributions.steps": "단계/표본 수(0 = 설정 수준 값)",
        "attributions.steps_info": "통합 그래디언트: 적분 단계 수, SmoothGrad·GradientSHAP: 표본 수",
        "attributions.window": "가림 창 크기, 픽셀(0 = 설정 수준 값)",
        "attributions.stride": "가림 이동 간격, 픽셀(0 = 설정 수준 값)",
        "attributions.run": "기여도 계산",
        "attributions.result": "기여도 맵",
        "attributions.raw": "수치(JSON)",
        "attributions.progress": "기여도 계산 · {what}",
        "attributions.cost_text": (
            "**비용:** 순전파 {fwd}회, 역전파 {bwd}회, 충실도 곡선용 순전파 {faith}회 · "
            "이 컴퓨터에서 약 **{seconds:.0f}초**"
        ),
        "attributions.cost_note": "⚠️ {note}",
        "attributions.summary": (
            "클래스 **{index}: {name}**에 대한 **{method}** · 순전파 {fwd}회 + 역전파 {bwd}회 · {seconds:.1f}초"
        ),
        "attributions.caption": "충실도 {score:+.3f} (삽입 {ins:.3f} − 삭제 {dele:.3f})",
        "attributions.delta": (
            "통합 그래디언트 완전성: 맵의 합 {total:.4f}, f(사진) − f(기준 입력) = {diff:.4f}, "
            "수렴 오차(delta) {delta:+.4f} (단계 수를 늘리면 작아집니다)"
        ),
        "attributions.no_methods": "비교할 방법을 하나 이상 고르세요.",
        "attributions.compare": "방법 비교",
        "attributions.compare_methods": "방법",
        "attributions.scale": "색 범위",
        "attributions.scale.per_map": "맵마다 따로",
        "attributions.scale.shared": "모든 맵에 공통",
        "attributions.scale_info": "공통 범위는 크기를 비교하는데, 단위가 같은 방법끼리만 의미가 같습니다",
        "attributions.compare_run": "비교하기",
        "attributions.sanity": "건전성 검사: 모델 무작위화",
        "attributions.sanity_help": (
            "Adebayo 외(2018): 학습된 가중치를 무작위 값으로 바꾸고(출력 쪽부터 블록 단위로 차례로 누적하는 "
            "계단식, 또는 한 번에 한 블록만 바꾸는 독립식), 같은 방법으로 네트워크의 개인 복사본에서 맵을 다시 "
            "계산합니다. 곡선은 원래 맵과의 스피어만 순위 상관입니다. 상관이 높게 유지되면 그 맵은 네트워크가 "
            "학습한 것이 아니라 사진의 윤곽을 보여 주는 것이므로, 이 모델에 대해 아무것도 설명하지 못합니다."
        ),
        "attributions.sanity_mode": "무작위화 방식",
        "attributions.sanity_mode.cascading": "계단식(누적)",
        "attributions.sanity_mode.independent": "독립식(한 블록씩)",
        "attributions.sanity_run": "건전성 검사 실행",
        "attributions.sanity_summary.cascading": (
            "**{block}**까지 모두 무작위화했을 때 |맵|과 원래 맵의 순위 상관은 **{rho:.2f}**입니다"
            "(1 = 그대로, 0 = 무관) · 순전파 {fwd}회 + 역전파 {bwd}회 · {seconds:.1f}초"
        ),
        "attributions.sanity_summary.independent": (
            "**{block}** 하나만 무작위화했을 때 맵이 가장 많이 바뀌었습니다. |맵|과 원래 맵의 순위 상관 "
            "**{rho:.2f}** (1 = 그대로, 0 = 무관) · 순전파 {fwd}회 + 역전파 {bwd}회 · {seconds:.1f}초"
        ),
        "attributions.branches": "가지별 기여도: 어느 모듈의 어느 가지가 기여했나",
        "attributions.branch_help": (
            "각 Inception 모듈은 네 가지를 나란히 실행한 뒤 이어 붙입니다(1x1, 3x3, 논문에서 5x5라 부르지만 "
            "torchvision 가중치에서는 3x3인 가지, 최대 풀링 후 1x1). 대상 클래스에 대해 각 칸은 그 가지 출력 "
            "전체에 걸쳐 더한 기여도입니다. 그래디언트 x 활성값(한 번의 계산) 또는 레이어 통합 그래디언트(더 "
            "느림, 한 모듈의 네 값을 더하면 사진과 기준 입력의 점수 차이가 됨)를 씁니다. 백분율은 각 가지가 "
            "모듈 전체에서 차지하는 몫입니다. 모듈을 고르면 각 가지가 그림의 어디에서 기여했는지 보입니다."
        ),
        "attributions.branch_method": "가지 기여도 방법",
        "attributions.branch_method.grad_x_activation": "그래디언트 x 활성값",
        "attributions.branch_method.layer_integrated_gradients": "레이어 통합 그래디언트",
        "attributions.branch_module": "보여 줄 모듈",
        "attributions.branch_run": "가지별 기여도 계산",
        "attributions.branch_matrix": "모듈 x 가지",
        "attributions.branch_maps": "가지별 맵",
        "attributions.explain": (
            "### 기여도 맵이 보여 주는 것과 보여 주지 못하는 것\n"
            "- 맵은 **한 클래스의 점수(로짓)**가 픽셀에 어떻게 반응하는지를 한 가지 방법의 정의에 따라 "
            "보여 줍니다. 그래디언트(세일리언시)는 국소적인 민감도이고, 통합 그래디언트는 기준 입력에서 사진까지의 "
            "경로를 따라 그래디언트를 누적해 점수 차이와 합이 같아지게 하며, 가림은 패치를 가렸을 때 점수가 얼마나 "
            "떨어지는지 재고, GradCAM은 한 모듈의 채널을 평균 그래디언트로 가중합니다.\n"
            "- 빨강은 그 픽셀이 클래스 점수를 올렸다는 뜻, 파랑은 내렸다는 뜻입니다. 방법마다 다른 질문에 "
            "답하므로 맵도 다르며, 어느 하나가 '정답' 설명은 아닙니다.\n"
            "- 맵은 네트워크가 물체를 알아보았다거나 답이 왜 옳은지를 **증명하지 않습니다**. 그럴듯한 맵이 "
            "무작위 가중치의 네트워크에서도 나올 수 있습니다(건전성 검사를 실행해 보세요).\n"
            "- 충실도 점수는 맵의 순서대로 픽셀을 지우고(또 넣고) 클래스 확률을 따라갑니다(Petsiuk 외 2018). "
            "삽입 AUC에서 삭제 AUC를 뺀 값으로, 클수록 좋고 무작위 순서는 약 0입니다. 바뀐 이미지는 실제 사진과 "
            "다르므로 증거일 뿐 증명은 아닙니다.\n"
            "- GradCAM 맵은 거칠고(5a/5b에서 7x7 칸), 통합 그래디언트는 기준 입력에 따라 달라집니다."
        ),
        "attributions.fig.signed": "부호 포함: 빨강 = 클래스를 지지, 파랑 = 반대",
        "attributions.fig.absolute": "절댓값(부호 무시)",
        "attributions.fig.shared_scale": "모든 맵이 하나의 색 범위를 공유",
        "attributions.fig.per_map_scale": "맵마다 색 범위가 따로",
        "attributions.fig.clip_note": "색 범위는 |값|의 99.5 백분위수에서 잘림",
        "attributions.fig.deletion": "삭제(낮을수록 충실)",
        "attributions.fig.insertion": "삽입(높을수록 충실)",
        "attributions.fig.fraction": "지우거나 넣은 픽셀의 비율",
        "attributions.fig.probability": "대상 클래스 확률",
        "attributions.fig.original": "원래 맵",
        "attributions.fig.randomised": "무작위화: {block}",
        "attributions.fig.spearman_abs": "스피어만, |맵|",
        "attributions.fig.spearman_signed": "스피어만, 부호 포함",
        "attributions.fig.sanity_title": "모델 무작위화({mode}): {method}",
        "attributions.fig.sanity_axis": "무작위화한 블록(계단식: 그 위의 모든 블록 포함)",
        "attributions.fig.correlation": "원래 맵과의 순위 상관",
        "attributions.fig.branch_title": "'{target}'에 대한 가지별 기여도({method})",
        "attributions.fig.branch_value": "대상 로짓에 대한 기여도",
        "attributions.fig.module": "모듈",
        "attributions.fig.branch": "가지",
        "attributions.fig.branch_maps_title": "{module}의 가지별 맵",
    },
}

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
# The English texts are googlenet.images.MESSAGES_EN (what the CLI and logs print), not a copy of them.
ERRORS: dict[str, dict[str, str]] = {
    "en": dict(MESSAGES_EN),
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
