"""distill-aux: the aux heads learn the main head's soft predictions; the trunk is never touched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from googlenet import cli
from googlenet.aux_heads import AuxHeads, AuxHeadsStatus
from bench.random_weights import make_random_model
from googlenet.aux_weights import (
    AuxWeightsError,
    aux_state_dict,
    load_aux_weights,
    read_aux_file,
    trunk_fingerprint,
)
from googlenet.distill import DistillConfig, distill_aux, extract_features, list_images
from googlenet.weights import sha256_of
from support import EXAMPLE_PHOTOS


@pytest.fixture(scope="module")
def images_dir(tmp_path_factory) -> Path:
    """Eight small generated photos (smooth colour fields with noise), one of them in a subfolder."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(8):
        yy, xx = np.mgrid[0:48, 0:48] / 48.0
        base = np.stack([np.sin(xx * (i + 1)), np.cos(yy * (i + 2)), xx * yy], axis=-1)
        pixels = (base * 0.5 + 0.5) * 200 + rng.normal(0, 20, base.shape)
        folder = root / "sub" if i == 7 else root
        folder.mkdir(exist_ok=True)
        Image.fromarray(pixels.clip(0, 255).astype("uint8")).save(folder / f"img{i}.png")
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="module")
def features(images_dir):
    model = make_random_model()
    return extract_features(model, list_images(images_dir), device=torch.device("cpu"), batch_size=4,
                            progress=False)


def test_list_images_finds_images_recursively(images_dir):
    found = list_images(images_dir)
    assert len(found) == 8 and all(p.suffix == ".png" for p in found)
    assert found == sorted(found)


def test_loss_falls_and_the_trunk_is_bit_for_bit_unchanged(random_model, features):
    before = {k: v.clone() for k, v in random_model.state_dict().items()}
    result = distill_aux(random_model, features, DistillConfig(epochs=4, batch_size=4), progress=False)
    assert result.final_loss < 0.7 * result.initial_loss, (result.initial_loss, result.eval_losses)
    assert result.epoch_losses[-1] < result.epoch_losses[0]
    after = random_model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # trunk (and even the model's own heads)
    assert set(result.state_dict) == {k for k in before if k.startswith(("aux1.", "aux2."))}


def test_resumed_training_equals_uninterrupted_training(random_model, features, tmp_path):
    config = DistillConfig(epochs=2, batch_size=4, seed=3)
    straight = distill_aux(random_model, features, config, checkpoint=tmp_path / "a.ckpt", progress=False)
    ckpt = tmp_path / "b.ckpt"
    first = distill_aux(random_model, features, DistillConfig(epochs=1, batch_size=4, seed=3), checkpoint=ckpt,
                        progress=False)
    assert first.resumed_from == 0 and len(first.eval_losses) == 1
    resumed = distill_aux(random_model, features, config, checkpoint=ckpt, resume=True, progress=False)
    assert resumed.resumed_from == 1 and len(resumed.eval_losses) == 2
    assert resumed.initial_loss == straight.initial_loss
    for k, v in straight.state_dict.items():
        assert torch.equal(v, resumed.state_dict[k]), k


def test_resume_refuses_a_checkpoint_of_another_trunk(features, tmp_path):
    ckpt = tmp_path / "c.ckpt"
    distill_aux(make_random_model(), features, DistillConfig(epochs=1, batch_size=4), checkpoint=ckpt,
                progress=False)
    with pytest.raises(AuxWeightsError, match="different base weights"):
        distill_aux(make_random_model(seed=1), features, DistillConfig(epochs=2, batch_size=4), checkpoint=ckpt,
                    resume=True, progress=False)


def test_trunk_fingerprint_ignores_the_aux_heads(random_model):
    fingerprint = trunk_fingerprint(random_model)
    with torch.no_grad():
        random_model.aux1.fc2.weight.add_(1.0)
    assert trunk_fingerprint(random_model) == fingerprint
    with torch.no_grad():
        random_model.inception4b.branch2[1].conv.weight[0, 0, 0, 0] += 1e-3
    assert trunk_fingerprint(random_model) != fingerprint


# ---- the command line ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def distilled(tmp_path_factory, images_dir, weights_file) -> Path:
    """distill-aux run for one epoch, then resumed to two: the file the app tests load."""
    out = tmp_path_factory.mktemp("distilled") / "heads-distilled.pt"
    common = ["distill-aux", "--images", str(images_dir), "--out", str(out), "--weights", str(weights_file),
              "--device", "cpu", "--no-download", "--batch-size", "4"]
    assert cli.main(common + ["--epochs", "1"]) == 0
    assert read_aux_file(out).meta["epochs"] == 1
    assert cli.main(common + ["--epochs", "2", "--resume", "--no-progress"]) == 0
    return out


def test_cli_writes_only_aux_heads_with_metadata(distilled, weights_file):
    from googlenet.model import GoogLeNet

    aux_file = read_aux_file(distilled)
    expected = {k for k in GoogLeNet().state_dict() if k.startswith(("aux1.", "aux2."))}
    assert set(aux_file.state_dict) == expected
    meta = aux_file.meta
    assert meta["base_weights_sha256"] == sha256_of(weights_file)
    assert meta["epochs"] == 2 and len(meta["eval_losses"]) == 2 and len(meta["epoch_losses"]) == 2
    assert meta["loss"] < meta["initial_loss"]
    assert meta["images"] == 8
    assert distilled.with_name(distilled.name + ".ckpt").is_file()
    assert distilled.stat().st_size < 0.6 * weights_file.stat().st_size


def test_cli_shows_progress(images_dir, weights_file, tmp_path, capsys):
    out = tmp_path / "p.pt"
    assert cli.main(["distill-aux", "--images", str(images_dir), "--out", str(out), "--weights", str(weights_file),
                     "--no-download", "--epochs", "1", "--batch-size", "8"]) == 0
    captured = capsys.readouterr()
    assert "epoch 1/1" in captured.err and "features" in captured.err
    assert "loss" in captured.out and str(out) in captured.out


def test_cli_reports_an_empty_folder(tmp_path, weights_file):
    assert cli.main(["distill-aux", "--images", str(tmp_path), "--out", str(tmp_path / "x.pt"),
                     "--weights", str(weights_file), "--no-download"]) == 2


def test_load_aux_weights_into_a_model_copy(distilled, weights_info):
    from googlenet.weights import load_model

    model = load_model(weights_info)
    trunk_before = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith(("aux1.", "aux2."))}
    aux_file = load_aux_weights(model, distilled)
    for k, v in aux_state_dict(model).items():
        assert torch.equal(v, aux_file.state_dict[k])
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in trunk_before.items())
    assert aux_file.meta["trunk_fingerprint"] == trunk_fingerprint(model)


def test_a_full_checkpoint_is_not_an_aux_file(weights_file, random_model):
    with pytest.raises(AuxWeightsError, match="not an aux-heads file"):
        load_aux_weights(random_model, weights_file)
    with pytest.raises(AuxWeightsError, match="does not exist"):
        load_aux_weights(random_model, weights_file.with_name("missing.pt"))


def test_distilled_heads_are_labelled(engine, distilled):
    heads = AuxHeads(engine, distilled)
    assert heads.info.status is AuxHeadsStatus.DISTILLED and not heads.info.trunk_mismatch
    assert heads.info.label == f"distilled ({distilled.name})"
    result = heads.run(EXAMPLE_PHOTOS[0])
    assert result.to_json()["aux_heads"] == f"distilled ({distilled.name})"
    assert result.to_json()["aux_heads_untrained"] is False
