"""googlenet.integrity: the fingerprint must notice every way a request could alter a shared model."""

from __future__ import annotations

import torch

from googlenet.integrity import engine_fingerprints, model_fingerprint


def test_fingerprint_is_stable(random_model):
    assert model_fingerprint(random_model) == model_fingerprint(random_model)


def test_fingerprint_sees_a_changed_buffer(random_model):
    before = model_fingerprint(random_model)
    with torch.no_grad():
        random_model.inception4a.branch1.bn.running_mean[0] += 1e-6  # what a train-mode forward does
    assert model_fingerprint(random_model).sha256 != before.sha256


def test_fingerprint_sees_train_mode_and_hooks(random_model):
    assert model_fingerprint(random_model).training_modules == 0
    random_model.inception3a.train()
    assert model_fingerprint(random_model).training_modules > 0
    random_model.eval()
    handle = random_model.inception3a.register_forward_hook(lambda *args: None)
    assert model_fingerprint(random_model).hooks == 1
    handle.remove()
    assert model_fingerprint(random_model).hooks == 0


def test_engine_models_are_frozen(engine):
    prints = engine_fingerprints(engine)
    assert set(prints) == {"reference", "fast"}
    for p in prints.values():
        assert p["training_modules"] == 0 and p["hooks"] == 0 and p["trainable_parameters"] == 0
