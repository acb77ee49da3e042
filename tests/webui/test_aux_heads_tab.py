"""The Auxiliary heads tab: what the page says about where the heads come from, and /aux_heads through
gradio_client."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench.random_weights import make_random_model
from googlenet.aux_heads import AuxHeads, AuxHeadsStatus, AuxOptions
from googlenet.aux_weights import aux_state_dict, save_aux_weights, trunk_fingerprint
from googlenet.inference import Engine
from googlenet.weights import WeightsInfo, WeightsKind
from support import EXAMPLE_PHOTOS
from webui.tabs.aux_heads import chart_text, summary_markdown

PHOTO = EXAMPLE_PHOTOS[0]


# ---- honesty about the aux heads ---------------------------------------------------------------------------------


def official_named_engine(tmp_path: Path) -> Engine:
    info = WeightsInfo(kind=WeightsKind.OFFICIAL, path=tmp_path / "googlenet-1378be20.pth",
                       sha256="1378be20" + "0" * 56, source="cache")
    return Engine(make_random_model(), info, torch.device("cpu"))


def test_untrained_notice_with_official_weights_and_not_with_distilled(tmp_path):
    engine = official_named_engine(tmp_path)
    official = AuxHeads(engine)
    assert official.info.status is AuxHeadsStatus.UNTRAINED_OFFICIAL and official.info.untrained
    result = official.run(PHOTO, AuxOptions(repeats=1))
    assert result.to_json()["aux_heads_untrained"] is True
    text = chart_text(result, "en")
    assert set(text.notices) == {"aux1", "aux2"} and "never trained" in text.notices["aux1"]
    assert "never trained" in summary_markdown(result, "en")
    assert "학습되지 않았습니다" in chart_text(result, "ko").notices["aux2"]

    # A distilled file for this very trunk: no untrained notice, and the heads are labelled with its name.
    path = tmp_path / "my-distilled.pt"
    save_aux_weights(aux_state_dict(engine.reference), {"trunk_fingerprint": trunk_fingerprint(engine.reference),
                                                        "epochs": 3, "loss": 0.25}, path)
    distilled = AuxHeads(engine, path)
    assert distilled.info.status is AuxHeadsStatus.DISTILLED and not distilled.info.untrained
    assert distilled.info.label == "distilled (my-distilled.pt)" and not distilled.info.trunk_mismatch
    result = distilled.run(PHOTO, AuxOptions(repeats=1))
    text = chart_text(result, "en")
    assert text.notices == {}
    assert "distilled (my-distilled.pt)" in text.titles["aux1"]
    summary = summary_markdown(result, "en")
    assert "never trained" not in summary and "distilled (my-distilled.pt)" in summary


def test_untrained_and_custom_weights_say_what_is_true(engine, tmp_path):
    custom = AuxHeads(engine)  # the random checkpoint, loaded as a custom file
    result = custom.run(PHOTO, AuxOptions(repeats=1))
    assert custom.info.status is AuxHeadsStatus.CUSTOM and not custom.info.untrained
    assert engine.weights.path.name in summary_markdown(result, "en")
    untrained_engine = Engine(make_random_model(), WeightsInfo(WeightsKind.UNTRAINED, None, None, "none"),
                              torch.device("cpu"))
    result = AuxHeads(untrained_engine).run(PHOTO, AuxOptions(repeats=1))
    assert result.aux_info.status is AuxHeadsStatus.UNTRAINED_RANDOM
    assert set(chart_text(result, "en").notices) == {"main", "aux1", "aux2"}


# ---- API ---------------------------------------------------------------------------------------------------------


def test_aux_heads_endpoint(client, app_server):
    from gradio_client import handle_file

    args = (handle_file(str(PHOTO)), True, True, 4, "batch", 3, "alone")
    chart, summary, raw = client.predict(*args, api_name="/aux_heads")
    assert Path(chart).is_file()
    assert set(raw["heads"]) == {"main", "aux1", "aux2"}
    assert raw["seeds"] == [4, 5, 6] and raw["options"]["batch_size"] == 1
    assert len(raw["heads"]["aux1"]["top"]) == 5 and len(raw["agreement"]) == 3
    assert raw["aux_heads_status"] == "custom"
    assert "Jensen-Shannon" in summary
    _, _, again = client.predict(*args, api_name="/aux_heads")
    assert again["heads"] == raw["heads"]  # same seed, same result

    _, summary, raw = client.predict(handle_file(str(PHOTO)), True, False, 0, "running", 1, "examples",
                                     api_name="/aux_heads")
    assert raw["options"]["batch_size"] == 1 + len(EXAMPLE_PHOTOS)
    _, summary, raw = client.predict(handle_file(str(PHOTO)), False, True, 0, "batch", 1, "alone",
                                     api_name="/aux_heads")
    assert set(raw["heads"]) == {"main"}


def test_aux_heads_endpoint_rejects_bad_input(client):
    from gradio_client import handle_file

    with pytest.raises(Exception, match="maximum|repeats"):  # Gradio's own slider check, or ours
        client.predict(handle_file(str(PHOTO)), True, True, 0, "batch", 99, "alone", api_name="/aux_heads")
    with pytest.raises(Exception, match="Upload a photo"):
        client.predict(None, True, True, 0, "batch", 1, "alone", api_name="/aux_heads")


# ---- --aux-weights ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def distilled(tmp_path_factory, random_state_dict) -> Path:
    """An aux-heads file for the test checkpoint's own trunk (what distill-aux writes; its training is tested in
    tests/googlenet/test_distill.py)."""
    from googlenet.model import GoogLeNet

    model = GoogLeNet(aux_logits=True, transform_input=False)
    model.load_state_dict(random_state_dict)
    path = tmp_path_factory.mktemp("aux") / "aux-distilled.pt"
    save_aux_weights(aux_state_dict(model), {"trunk_fingerprint": trunk_fingerprint(model), "epochs": 1,
                                             "loss": 0.5}, path)
    return path


def test_app_reads_aux_weights_from_the_environment(monkeypatch, distilled):
    from webui.settings import Settings

    monkeypatch.setenv("GOOGLENET_AUX_WEIGHTS", str(distilled))
    assert Settings.from_env().aux_weights == str(distilled)
    assert Settings.from_env().with_argv(["--aux-weights", "x.pt"]).aux_weights == "x.pt"


def test_app_with_aux_weights_labels_the_heads_distilled(settings, distilled):
    from dataclasses import replace

    from gradio_client import handle_file

    from bench.launcher import in_process_app

    with in_process_app(replace(settings, aux_weights=str(distilled))) as launched:
        _, summary, raw = launched.client().predict(handle_file(str(EXAMPLE_PHOTOS[0])), True, True, 0, "batch", 2,
                                                    "alone", api_name="/aux_heads")
    assert raw["aux_heads"] == f"distilled ({distilled.name})"
    assert raw["aux_heads_status"] == "distilled" and raw["aux_heads_untrained"] is False
    assert f"distilled ({distilled.name})" in summary
    assert "never trained" not in summary


def test_app_refuses_a_bad_aux_file(tmp_path, settings):
    from dataclasses import replace

    from webui.server import create_app

    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="bad.pt"):
        create_app(replace(settings, aux_weights=str(bad)))
