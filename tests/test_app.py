"""The app through gradio_client against a server launched on 127.0.0.1 by the test."""

from __future__ import annotations

import pytest
from gradio_client import handle_file
from PIL import Image

from googlenet.labels import CATEGORIES

from conftest import EXAMPLE_PHOTOS, launch_app, stop_app


def test_classify_endpoint_matches_in_process_engine(client, engine):
    for photo in EXAMPLE_PHOTOS:
        label, crop_path, summary, raw = client.predict(handle_file(str(photo)), api_name="/classify")
        expected = engine.classify(photo)
        assert [c["label"] for c in label["confidences"]] == [s.name for s in expected.top]
        assert [s["index"] for s in raw["top"]] == [s.index for s in expected.top]
        assert all(s["name"] == CATEGORIES[s["index"]] for s in raw["top"])
        assert raw["device"] == "cpu"
        assert raw["weights"].startswith("custom weights") and raw["warning"] is None
        assert "custom weights" in summary and "ms" in summary
        assert Image.open(crop_path).size == (224, 224)


def test_classify_without_image_is_a_clear_error(client):
    with pytest.raises(Exception, match="Upload a photo first"):
        client.predict(None, api_name="/classify")


def test_untrained_app_says_so_on_every_result(tmp_path):
    app = launch_app(tmp_path, weights=None)  # no weights anywhere, downloads disabled
    try:
        _, _, summary, raw = app.client().predict(handle_file(str(EXAMPLE_PHOTOS[0])), api_name="/classify")
        assert raw["warning"] == "untrained weights: predictions are meaningless"
        assert "untrained weights: predictions are meaningless" in summary
        assert "UNTRAINED" in app.log()
    finally:
        stop_app(app)


def test_require_pretrained_refuses_to_start(tmp_path):
    with pytest.raises(RuntimeError, match="pretrained weights are required"):
        launch_app(tmp_path, weights=None, extra_args=("--require-pretrained",), timeout=120)
