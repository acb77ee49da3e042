"""The inference engine: the folded fast model equals the reference model; top-k; device selection."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
import torch.nn as nn

from googlenet.inference import fuse_batchnorm, select_device, topk
from googlenet.labels import CATEGORIES

from support import EXAMPLE_PHOTOS


def test_fused_model_has_no_batchnorm_and_leaves_original_untouched(random_model):
    before = {k: v.clone() for k, v in random_model.state_dict().items()}
    fused = fuse_batchnorm(random_model)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in random_model.modules())
    for k, v in random_model.state_dict().items():
        assert torch.equal(v, before[k])


def test_fusing_requires_eval_mode(random_model):
    with pytest.raises(ValueError):
        fuse_batchnorm(random_model.train())


@pytest.mark.parametrize("size", [(224, 224), (256, 320), (15, 15)])
def test_fast_model_equals_reference_within_1e_4(engine, size):
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        reference = engine.reference(x)
    fast = engine.logits(x)
    assert reference.std() > 0.5  # calibrated weights: a comparison that can fail
    assert (fast - reference).abs().max().item() <= 1e-4


@pytest.mark.parametrize("photo", EXAMPLE_PHOTOS, ids=lambda p: p.name)
def test_fast_model_equals_reference_on_real_photos(engine, photo):
    _, x = engine.prepare(photo)
    with torch.no_grad():
        reference = engine.reference(x)
    fast = engine.logits(x)
    assert (fast - reference).abs().max().item() <= 1e-4
    assert fast.argmax().item() == reference.argmax().item()


def test_classify_returns_sorted_top5_with_crop(engine):
    result = engine.classify(EXAMPLE_PHOTOS[0])
    assert len(result.top) == 5
    probabilities = [s.probability for s in result.top]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(s.name == CATEGORIES[s.index] for s in result.top)
    assert result.crop.size == (224, 224)
    assert result.probabilities.shape == (1000,)
    assert np.isclose(result.probabilities.sum(), 1.0, atol=1e-4)
    assert result.top[0].index == int(result.probabilities.argmax())
    assert result.device == "cpu" and result.elapsed_ms > 0
    assert result.to_json()["weights"].startswith("custom weights")


def test_classify_gives_different_answers_for_different_photos(engine):
    a, b = (engine.classify(p).probabilities for p in EXAMPLE_PHOTOS[:2])
    assert np.abs(a - b).max() > 1e-4


def test_engine_freezes_the_shared_model(engine):
    assert not engine.reference.training and not engine.fast.training
    assert not any(p.requires_grad for p in engine.reference.parameters())
    assert not any(p.requires_grad for p in engine.fast.parameters())


def test_concurrent_classification_matches_sequential(engine):
    expected = {p: engine.classify(p).probabilities for p in EXAMPLE_PHOTOS}
    errors = []

    def worker(photo):
        for _ in range(3):
            got = engine.classify(photo).probabilities
            if np.abs(got - expected[photo]).max() > 1e-5:
                errors.append(photo)

    threads = [threading.Thread(target=worker, args=(p,)) for p in EXAMPLE_PHOTOS * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_topk_orders_by_probability():
    p = torch.zeros(1000)
    p[[5, 7, 9]] = torch.tensor([0.2, 0.5, 0.3])
    assert [s.index for s in topk(p, 3)] == [7, 9, 5]


def test_select_device():
    assert select_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert select_device().type == expected
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            select_device("cuda")
