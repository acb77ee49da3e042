"""The Classify tab and /classify, through gradio_client against the app served by the test."""

from __future__ import annotations

import pytest
from gradio_client import handle_file
from PIL import Image

from bench.launcher import in_process_app
from googlenet.labels import CATEGORIES
from support import EXAMPLE_PHOTOS
from webui.settings import Settings


def test_classify_endpoint_matches_in_process_engine(client, engine):
    for photo in EXAMPLE_PHOTOS:
        label, crop_path, summary, raw = client.predict(handle_file(str(photo)), True, api_name="/classify")
        expected = engine.classify(photo)
        assert [c["label"] for c in label["confidences"]] == [s.name for s in expected.top]
        assert [s["index"] for s in raw["top"]] == [s.index for s in expected.top]
        assert all(s["name"] == CATEGORIES[s["index"]] for s in raw["top"])
        assert raw["device"] == "cpu"
        assert raw["weights"].startswith("custom weights") and raw["warning"] is None
        assert "custom weights" in summary and "ms" in summary
        assert Image.open(crop_path).size == (224, 224)


def test_korean_reader_gets_korean_class_names_and_english_json(app_server, engine):
    """Accept-Language ko: the top-5 labels read "Korean (English)"; the JSON keeps the English names and indices."""
    from googlenet.labels import display_name

    korean = app_server.client(headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    photo = EXAMPLE_PHOTOS[0]
    label, _, summary, raw = korean.predict(handle_file(str(photo)), api_name="/classify")
    expected = engine.classify(photo)
    shown = [c["label"] for c in label["confidences"]]
    assert shown == [display_name(s.index, "ko") for s in expected.top]
    assert all(name.endswith(f" ({s.name})") and name != f" ({s.name})" for name, s in zip(shown, expected.top))
    assert [s["name"] for s in raw["top"]] == [s.name for s in expected.top]
    assert "가중치" in summary


def test_classify_without_image_is_a_clear_error(client):
    with pytest.raises(Exception, match="Upload a photo first"):
        client.predict(None, api_name="/classify")


def test_untrained_app_says_so_on_every_result(torch_home):
    # no weights anywhere (an empty torch home), downloads disabled
    with in_process_app(Settings(device="cpu", allow_download=False)) as app:
        _, _, summary, raw = app.client().predict(handle_file(str(EXAMPLE_PHOTOS[0])), api_name="/classify")
        assert raw["warning"] == "untrained weights: predictions are meaningless"
        assert "untrained weights: predictions are meaningless" in summary
        assert "UNTRAINED" in app.log()


def test_require_pretrained_refuses_to_start(torch_home):
    from webui.server import create_app

    with pytest.raises(RuntimeError, match="pretrained weights are required"):
        create_app(Settings(device="cpu", allow_download=False, require_pretrained=True))


def test_classify_batched_adapter_keeps_other_requests_when_one_fails(services, tmp_path):
    """The Gradio batch=True adapter (used on CUDA): one answer per request, a bad file answers only itself."""
    from webui.tabs.classify import ClassifyTab

    engine = services.engine
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"this is not a png")
    images = [str(EXAMPLE_PHOTOS[0]), str(bad), str(EXAMPLE_PHOTOS[1])]
    labels, crops, infos, raws = ClassifyTab(services).classify_batched(images, [True, True, False])
    assert len(labels) == len(crops) == len(infos) == len(raws) == 3
    assert raws[1].get("error") and labels[1] == {} and crops[1] is None
    assert crops[0].size == (224, 224) and crops[2] is None  # each request's own with_crop
    for i, photo in ((0, EXAMPLE_PHOTOS[0]), (2, EXAMPLE_PHOTOS[1])):
        expected = engine.classify(photo)
        assert [t["index"] for t in raws[i]["top"]] == [t.index for t in expected.top]
