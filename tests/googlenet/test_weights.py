"""Weights resolution, verification and loading, exercised with checkpoints the tests create (never the network)."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
import torch

from googlenet import weights as W
from googlenet.weights import (
    OFFICIAL_FILENAME,
    OFFICIAL_SHA256_PREFIX,
    PretrainedWeightsUnavailable,
    WeightsError,
    WeightsInfo,
    WeightsKind,
    load_model,
    resolve_weights,
)

from support import official_cache_file


@pytest.fixture()
def offline(monkeypatch):
    """Make any download attempt fail at once, as it does on a machine without internet."""
    calls = []

    def no_network(*args, **kwargs):
        calls.append(args)
        raise OSError("network is unreachable (simulated)")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    return calls


def test_official_file_name_and_hash_come_from_torchvision():
    assert OFFICIAL_FILENAME == "googlenet-1378be20.pth"
    assert OFFICIAL_SHA256_PREFIX == "1378be20"


def test_explicit_file_is_custom_weights(torch_home, weights_file, offline):
    info = resolve_weights(weights_file)
    assert info.kind is WeightsKind.CUSTOM and info.source == "explicit"
    assert info.path == weights_file
    assert info.sha256 == hashlib.sha256(weights_file.read_bytes()).hexdigest()
    assert "custom weights" in info.description and weights_file.name in info.description
    assert info.warning is None
    assert offline == []


def test_environment_variable_names_the_file(torch_home, weights_file, monkeypatch, offline):
    monkeypatch.setenv("GOOGLENET_WEIGHTS", str(weights_file))
    info = resolve_weights()
    assert info.path == weights_file and info.source == "environment"


def test_explicit_file_wins_over_cache(torch_home, weights_file, random_state_dict, tmp_path, offline):
    torch.save(random_state_dict, official_cache_file(torch_home))
    other = tmp_path / "other.pth"
    torch.save(random_state_dict, other)
    assert resolve_weights(other).path == other


def test_file_with_official_name_but_other_hash_is_not_called_official(torch_home, random_state_dict, offline):
    cached = official_cache_file(torch_home)
    torch.save(random_state_dict, cached)
    info = resolve_weights()
    assert info.source == "cache" and info.path == cached
    assert info.kind is WeightsKind.CUSTOM
    assert "verified" not in info.description
    assert offline == []  # found in the cache: no download attempted


def test_official_hash_is_recognised(torch_home, random_state_dict, monkeypatch, offline):
    cached = official_cache_file(torch_home)
    torch.save(random_state_dict, cached)
    real = W.sha256_of(cached)
    # We cannot produce a file whose sha256 really starts with 1378be20; pretend the hash function says so, and
    # check the rest of the chain (classification, description) treats it as the verified official checkpoint.
    monkeypatch.setattr(W, "sha256_of", lambda path: OFFICIAL_SHA256_PREFIX + real[8:])
    info = resolve_weights()
    assert info.kind is WeightsKind.OFFICIAL and info.official
    assert info.description == "official torchvision IMAGENET1K_V1 (verified)"


def test_official_weights_are_loaded_with_transform_input(torch_home, random_state_dict, monkeypatch):
    cached = official_cache_file(torch_home)
    torch.save(random_state_dict, cached)
    info = WeightsInfo(WeightsKind.OFFICIAL, cached, OFFICIAL_SHA256_PREFIX + "0" * 56, "cache")
    model = load_model(info)
    # torchvision loads IMAGENET1K_V1 with transform_input=True; so must we, or every prediction shifts.
    assert model.transform_input is True
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())


def test_offline_without_cache_falls_back_to_untrained_loudly(torch_home, offline, caplog):
    with caplog.at_level("WARNING"):
        info = resolve_weights(progress=False)
    assert offline, "the download must have been attempted"
    assert info.kind is WeightsKind.UNTRAINED and not info.pretrained
    assert info.warning == "untrained weights: predictions are meaningless"
    assert "UNTRAINED" in caplog.text
    model = load_model(info)
    assert model.transform_input is False


def test_offline_with_require_pretrained_refuses(torch_home, offline):
    with pytest.raises(PretrainedWeightsUnavailable, match="download-weights"):
        resolve_weights(require_pretrained=True, progress=False)


def test_no_download_with_require_pretrained_refuses_without_trying(torch_home, offline):
    with pytest.raises(PretrainedWeightsUnavailable):
        resolve_weights(allow_download=False, require_pretrained=True)
    assert offline == []


def test_download_path_uses_torchvisions_weights_api(torch_home, random_state_dict, monkeypatch):
    """A successful download (simulated by writing the file where torchvision would) is found and described."""

    def fake_get_state_dict(self, progress=True, check_hash=False):
        path = official_cache_file(torch_home)
        torch.save(random_state_dict, path)
        assert progress is True and check_hash is True
        return random_state_dict

    monkeypatch.setattr(type(W.OFFICIAL_WEIGHTS), "get_state_dict", fake_get_state_dict)
    info = resolve_weights()
    assert info.source == "download" and info.path == official_cache_file(torch_home)


def test_missing_explicit_file_is_an_error(torch_home, tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        resolve_weights(tmp_path / "nope.pth")


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not a checkpoint", b"PK\x03\x04" + b"\x00" * 64],
    ids=["empty", "text", "broken-zip"],
)
def test_corrupt_file_is_a_clear_error_naming_the_file(torch_home, tmp_path, content):
    path = tmp_path / "broken.pth"
    path.write_bytes(content)
    info = resolve_weights(path)
    with pytest.raises(WeightsError, match="broken.pth"):
        load_model(info)


def test_truncated_checkpoint_is_a_clear_error(torch_home, tmp_path, weights_file):
    path = tmp_path / "truncated.pth"
    path.write_bytes(weights_file.read_bytes()[: weights_file.stat().st_size // 2])
    with pytest.raises(WeightsError, match="truncated.pth"):
        load_model(resolve_weights(path))


def test_wrong_shapes_are_a_clear_error(torch_home, tmp_path, random_state_dict):
    bad = dict(random_state_dict)
    bad["fc.weight"] = torch.zeros(10, 1024)
    path = tmp_path / "ten-classes.pth"
    torch.save(bad, path)
    with pytest.raises(WeightsError, match="ten-classes.pth.*does not fit"):
        load_model(resolve_weights(path))


def test_missing_keys_are_a_clear_error(torch_home, tmp_path, random_state_dict):
    partial = {k: v for k, v in random_state_dict.items() if not k.startswith("aux")}
    path = tmp_path / "no-aux.pth"
    torch.save(partial, path)
    with pytest.raises(WeightsError, match="no-aux.pth"):
        load_model(resolve_weights(path))


def test_non_tensor_pickle_is_refused(torch_home, tmp_path):
    path = tmp_path / "object.pth"
    torch.save({"weights": [1, 2, 3]}, path)
    with pytest.raises(WeightsError, match="object.pth"):
        load_model(resolve_weights(path))


def test_wrapped_state_dict_is_accepted(torch_home, tmp_path, random_state_dict):
    path = tmp_path / "wrapped.pth"
    torch.save({"state_dict": random_state_dict, "epoch": 3}, path)
    model = load_model(resolve_weights(path))
    assert torch.equal(model.fc.weight, random_state_dict["fc.weight"])


def test_loaded_custom_weights_equal_the_file(torch_home, weights_file, random_state_dict):
    model = load_model(resolve_weights(weights_file))
    for key, value in model.state_dict().items():
        assert torch.equal(value, random_state_dict[key]), key


def test_cache_path_follows_torch_home(torch_home):
    assert W.cache_path() == Path(torch_home) / "hub" / "checkpoints" / OFFICIAL_FILENAME
