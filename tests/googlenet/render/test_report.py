"""googlenet/render/report.py: the one-page analysis report."""

from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import replace

import numpy as np
import pytest
from matplotlib.text import Text
from PIL import Image

from googlenet.inference import ClassScore
from googlenet.render import report
from googlenet.render.figures import LATIN_FONT
from googlenet.render.report import PAGE_SIZE_IN, PNG_DPI, ReportPieces, ReportText, render_report, save_report, wrap_text
from support import ASSETS

TOP = [
    ClassScore(281, "tabby", 0.62),
    ClassScore(282, "tiger cat", 0.21),
    ClassScore(285, "Egyptian cat", 0.09),
    ClassScore(287, "lynx", 0.03),
    ClassScore(728, "plastic bag", 0.01),
]
RED = (230, 20, 20)
GREEN = (20, 200, 40)

KOREAN = replace(
    ReportText.load("ko"),
    title="GoogLeNet 탐색기: 분석 보고서",
    prediction="예측: 상위 5개 ImageNet 클래스",
    crop="네트워크가 본 이미지",
    missing_branches="포함되지 않음: 이 사진의 가지 개요를 계산하지 않았습니다.",
    missing_attribution="포함되지 않음: 기여도를 계산하지 않았습니다.",
    attribution_note="기여도 지도는 네트워크가 무엇을 이해했는지를 증명하지 않습니다.",
    weights="가중치",
)


def solid(colour: tuple[int, int, int], size: tuple[int, int] = (224, 224)) -> Image.Image:
    return Image.new("RGB", size, colour)


def png_array(data: bytes) -> np.ndarray:
    assert data.startswith(b"\x89PNG"), "not a PNG"
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB")).astype(np.int16)


def pixels_near(array: np.ndarray, colour: tuple[int, int, int], tolerance: int = 30) -> int:
    return int((np.abs(array - np.array(colour)).max(axis=2) <= tolerance).sum())


def figure_text(pieces: ReportPieces, text: ReportText | None = None) -> str:
    """All text drawn on the report, whitespace-normalized (wrapping inserts newlines)."""
    text = text or ReportText.load()
    fig = report.build_figure(pieces, text)
    return " ".join(" ".join(t.get_text().split()) for t in fig.findobj(Text) if t.get_text())


def require_cjk_font() -> None:
    if report.cjk_font_family() is None:
        reason = "no CJK font installed (Debian: apt-get install fonts-noto-cjk)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(reason)
        pytest.skip(reason)


def test_png_is_one_a4_page_at_150_dpi() -> None:
    array = png_array(render_report(ReportPieces(TOP, solid(RED), "custom weights")))
    height, width, _ = array.shape
    assert abs(width - PAGE_SIZE_IN[0] * PNG_DPI) <= 1 and abs(height - PAGE_SIZE_IN[1] * PNG_DPI) <= 1


def test_png_shows_the_crop_and_bars_and_is_not_blank() -> None:
    array = png_array(render_report(ReportPieces(TOP, solid(RED), "custom weights")))
    assert array.std() > 20, "the page is (nearly) blank"
    # The crop is drawn about 2.8 inches wide at 150 dpi: well over 150,000 red pixels.
    assert pixels_near(array, RED) > 150_000
    # The top bar uses the accent colour, and its length follows the probability.
    accent = (79, 70, 229)
    small = png_array(render_report(ReportPieces([ClassScore(1, "a", 0.1)], solid(RED), "w")))
    large = png_array(render_report(ReportPieces([ClassScore(1, "a", 0.9)], solid(RED), "w")))
    assert pixels_near(large, accent, 10) > 5 * pixels_near(small, accent, 10) > 0


def test_pieces_given_are_drawn_and_missing_ones_are_noted() -> None:
    text = ReportText.load()
    bare = ReportPieces(TOP, solid(RED), "custom weights")
    bare_text = figure_text(bare, text)
    assert " ".join(text.missing_branches.split()) in bare_text
    assert " ".join(text.missing_attribution.split()) in bare_text
    assert "tabby" in bare_text and "62.0%" in bare_text and "custom weights" in bare_text

    full = ReportPieces(TOP, solid(RED), "custom weights", branch_overview=solid(GREEN, (900, 300)),
                        attribution=np.full((224, 224), 0.5), attribution_caption="Integrated Gradients")
    full_text = figure_text(full, text)
    assert " ".join(text.missing_branches.split()) not in full_text
    assert " ".join(text.missing_attribution.split()) not in full_text
    assert "Integrated Gradients" in full_text
    assert pixels_near(png_array(render_report(full)), GREEN) > 200_000


def test_image_pieces_may_be_paths(tmp_path) -> None:
    path = tmp_path / "overview.png"
    solid(GREEN, (600, 200)).save(path)
    with Image.open(ASSETS / "chelsea.png") as photo:
        crop = photo.convert("RGB").resize((224, 224))
    data = render_report(ReportPieces(TOP, crop, "w", branch_overview=str(path)))
    assert pixels_near(png_array(data), GREEN) > 100_000


def test_untrained_warning_is_printed() -> None:
    pieces = ReportPieces(TOP, solid(RED), "untrained", weights_warning="predictions are meaningless")
    assert "predictions are meaningless" in figure_text(pieces)


def test_pdf_is_a_single_page(tmp_path) -> None:
    path = save_report(tmp_path / "report.pdf", ReportPieces(TOP, solid(RED), "custom weights"))
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?![a-z])", data)) == 1


def test_bad_inputs_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="format"):
        render_report(ReportPieces(TOP, solid(RED), "w"), fmt="gif")
    with pytest.raises(ValueError, match="prediction"):
        render_report(ReportPieces([], solid(RED), "w"))
    with pytest.raises(ValueError, match="shape"):
        render_report(ReportPieces(TOP, np.zeros((4, 4, 5)), "w"))


def test_korean_text_renders_with_a_cjk_font() -> None:
    require_cjk_font()
    pieces = ReportPieces(TOP, solid(RED), "학습되지 않은 가중치", weights_warning="예측에 의미가 없습니다")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        array = png_array(render_report(pieces, KOREAN))
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing
    assert array.std() > 20


def test_korean_without_a_cjk_font_is_detected(monkeypatch) -> None:
    """The check above can fail: with the Latin font alone, matplotlib reports the missing Hangul glyphs."""
    monkeypatch.setattr(report, "font_families", lambda: [LATIN_FONT])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_report(ReportPieces(TOP, solid(RED), "w"), KOREAN)
    assert any("missing from font" in str(w.message) for w in caught)


def test_wrap_text_counts_hangul_as_double_width() -> None:
    assert wrap_text("abc def ghi", 7).splitlines() == ["abc def", "ghi"]
    lines = wrap_text("가나다 라마바 사아자", 8).splitlines()
    assert lines == ["가나다", "라마바", "사아자"]
    assert all(len(line) <= 10 for line in wrap_text("x" * 25, 10).splitlines())


def test_korean_report_names_classes_in_korean_and_english() -> None:
    """The top-5 on a Korean report reads "얼룩 고양이 (tabby)"; on an English one "tabby"."""
    pieces = ReportPieces(TOP, solid(RED), "w")
    korean = figure_text(pieces, ReportText.load("ko"))
    assert "1. 얼룩 고양이 (tabby)" in korean and "5. 비닐봉지 (plastic bag)" in korean
    english = figure_text(pieces)
    assert "1. tabby" in english and "얼룩" not in english
