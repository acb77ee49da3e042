"""The Inception branches tab: /branches through gradio_client, and re-rendering without running the model."""

from __future__ import annotations

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image

from googlenet import BRANCHES, INCEPTION_MODULES
from googlenet.model import GoogLeNet, Inception

from support import EXAMPLE_PHOTOS
from webui.tabs.branches import BranchesTab


def test_branches_endpoint(client):
    overview, heatmaps, channels, facts, shapes, raw = client.predict(
        handle_file(str(EXAMPLE_PHOTOS[0])), "inception4b", "l2_energy", 6, "per_branch", api_name="/branches")
    assert raw["module"] == "inception4b" and raw["measure"] == "l2_energy"
    assert raw["modules"] == list(INCEPTION_MODULES) and raw["branches"] == list(BRANCHES)
    shares = np.array(raw["shares"])
    assert shares.shape == (9, 4) and np.allclose(shares.sum(axis=1), 1.0, atol=1e-5)
    assert [len(v) for v in raw["top_channels"].values()] == [6, 6, 6, 6]
    assert raw["top_channels"]["branch2"][0]["global_index"] == 160 + raw["top_channels"]["branch2"][0]["index"]
    for path in (overview, heatmaps, channels):
        image = Image.open(path)
        assert image.width > 500 and np.asarray(image.convert("L")).std() > 10
    assert "4b" in facts and "425,232" in facts  # inception4b's parameters, from the model itself
    assert "3x3" in facts and "5x5" in facts
    rows = {row[0]: row[1] for row in shapes["data"]}
    assert rows["inception4b"] == "512 x 14 x 14" and rows["inception4b.branch3"] == "64 x 14 x 14"


def test_branches_endpoint_rejects_unknown_module(client):
    with pytest.raises(Exception, match="inception9z"):  # Gradio checks the choices before our code
        client.predict(handle_file(str(EXAMPLE_PHOTOS[0])), "inception9z", "l2_energy", 4, "shared",
                       api_name="/branches")


def test_branches_without_image_is_a_clear_error(client):
    with pytest.raises(Exception, match="Upload a photo first"):
        client.predict(None, "inception4a", "l2_energy", 4, "shared", api_name="/branches")


def test_changing_module_and_options_does_not_run_the_model(services, monkeypatch):
    tab = BranchesTab(services)  # the services are built first: that self-checks the inference net with a forward
    calls = {"forward": 0, "branches": 0, "classifier": 0}
    originals = (GoogLeNet.forward, GoogLeNet.classifier, Inception.forward_branches)

    def counting(key, fn):
        def wrapper(*args, **kwargs):
            calls[key] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(GoogLeNet, "forward", counting("forward", originals[0]))
    monkeypatch.setattr(GoogLeNet, "classifier", counting("classifier", originals[1]))
    monkeypatch.setattr(Inception, "forward_branches", counting("branches", originals[2]))

    *views, session = tab.branches_run(str(EXAMPLE_PHOTOS[1]), "inception3a", "activation_sum", 4, "shared")
    assert calls["classifier"] == 1 and calls["branches"] == 9  # exactly one pass through the network
    calls.update(forward=0, branches=0, classifier=0)

    for module in INCEPTION_MODULES:
        for measure in ("activation_sum", "mean_activation", "l2_energy"):
            out = tab.rerender(session, module, measure, 3, "per_branch")
            assert out[5]["module"] == module and out[5]["measure"] == measure
    assert calls == {"forward": 0, "branches": 0, "classifier": 0}
