"""Speed-ups keep the answers: the inference net (googlenet/optimize.py), precision options, classify_batch, the
dynamic batching adapter, the benchmark script.

No timing assertions here (speed goes in bench/): only correctness of the optimized paths and of the script.
"""

from __future__ import annotations


import numpy as np
import pytest
import torch

from googlenet.inference import PRECISIONS, Engine, fuse_batchnorm
from googlenet.model import GoogLeNet
from googlenet.optimize import InferenceNet, PackedConv, build_inference_net, onednn_available

from support import EXAMPLE_PHOTOS


def _photos(engine: Engine) -> torch.Tensor:
    return torch.cat([engine.prepare(p)[1] for p in EXAMPLE_PHOTOS])  # P x 3 x 224 x 224


def test_default_cpu_precision_is_fp32_and_matches_reference(engine):
    assert engine.precision == "fp32"
    x = torch.cat([_photos(engine), torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(5))])
    with torch.no_grad():
        reference = engine.reference(x)
    fast = engine.logits(x)
    assert reference.std() > 0.5  # calibrated weights: the comparison can fail
    assert (fast - reference).abs().max().item() <= 1e-4
    assert torch.equal(fast.argmax(1), reference.argmax(1))


def test_optimized_model_matches_torchvision_googlenet(engine):
    import torchvision

    tv = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False,
                                      transform_input=engine.reference.transform_input).eval()
    tv.load_state_dict({k: v for k, v in engine.reference.state_dict().items() if not k.startswith("aux")})
    x = _photos(engine)
    with torch.no_grad():
        expected = tv(x)
    assert (engine.logits(x) - expected).abs().max().item() <= 1e-4


def test_unknown_or_impossible_precision_is_refused(random_model, weights_info):
    with pytest.raises(ValueError, match="unknown precision"):
        Engine(random_model, weights_info, torch.device("cpu"), precision="int4")
    with pytest.raises(ValueError, match="fp16"):
        Engine(random_model, weights_info, torch.device("cpu"), precision="fp16")
    assert set(PRECISIONS) == {"auto", "fp32", "bf16", "fp16"}


def test_compile_batch1_is_ignored_without_cuda(random_model, weights_info):
    engine = Engine(random_model, weights_info, torch.device("cpu"), compile_batch1=True)
    assert engine._batch1_model() is engine.inference  # no torch.compile on CPU: the flag is CUDA-only


def _bf16_works() -> bool:
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            torch.nn.functional.conv2d(torch.randn(1, 3, 8, 8), torch.randn(4, 3, 3, 3))
        return True
    except RuntimeError:
        return False


@pytest.mark.skipif(not _bf16_works(), reason="bf16 autocast is not supported by this CPU build")
def test_bf16_option_keeps_top1_on_example_photos(random_model, weights_info, engine):
    bf16 = Engine(random_model, weights_info, torch.device("cpu"), precision="bf16")
    assert bf16.inference.dtype == torch.bfloat16
    x = _photos(engine)
    fp32 = engine.logits(x)
    low = bf16.logits(x)
    assert low.dtype == torch.float32  # the API always answers in float32
    assert not torch.equal(low, fp32)  # the net really computed in bf16
    assert torch.equal(low.argmax(1), fp32.argmax(1))
    # No bound on the probabilities: on random weights bf16 rounding moves logits by whole units (measured), so
    # only the criterion (top-1 unchanged) is asserted; bench/ reports the probability difference.
    assert torch.isfinite(low).all()


def _random_inputs() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(11)
    # batch 1 (the layout the weights are packed for), a batch, and a size that is neither square nor 224
    return [torch.randn(1, 3, 224, 224, generator=g), torch.randn(3, 3, 224, 224, generator=g),
            torch.randn(2, 3, 257, 300, generator=g)]


@pytest.mark.parametrize("packed", [True, False], ids=["onednn-packed", "plain"])
def test_inference_net_equals_reference_on_photos_and_random_inputs(engine, packed):
    if packed and not onednn_available():
        pytest.skip("this torch has no oneDNN pointwise convolution ops")
    net = build_inference_net(engine.fast, packed=packed)
    assert isinstance(net, InferenceNet) and net.packed is packed
    photos = _photos(engine)
    with torch.no_grad():
        for x in [photos, *_random_inputs()]:
            expected = engine.reference(x)  # N x 1000
            assert expected.std() > 0.5  # calibrated weights: the comparison can fail
            got = net(x)
            assert got.shape == expected.shape and got.dtype == torch.float32
            assert (got - expected).abs().max().item() <= 1e-4
            assert torch.equal(got.argmax(1), expected.argmax(1))


def test_inference_net_handles_transform_input(random_state_dict):
    """The official weights set transform_input=True: the inference net must apply it like the reference."""
    model = GoogLeNet(aux_logits=True, transform_input=True)
    model.load_state_dict(random_state_dict)
    model.eval()
    net = build_inference_net(fuse_batchnorm(model))
    x = _random_inputs()[1]
    with torch.no_grad():
        expected = model(x)
        assert (net(x) - expected).abs().max().item() <= 1e-4
        # and the transform matters for this comparison: without it the answer is different
        model.transform_input = False
        assert (net(x) - model(x)).abs().max().item() > 1e-2


def test_engine_answers_with_the_inference_net_on_cpu(engine):
    assert isinstance(engine.inference, InferenceNet)
    assert engine.inference.packed is onednn_available()
    x = _random_inputs()[0]
    with torch.no_grad():
        assert torch.equal(engine.logits(x), engine.inference(x))
    # branch1 and the two 1x1 reductions of each Inception module are one merged convolution: 2 fewer per module
    convs = [m for m in engine.inference.modules() if isinstance(m, PackedConv)]
    reference_convs = [m for m in engine.reference.modules() if isinstance(m, torch.nn.Conv2d)]
    aux_convs = [m for m in engine.reference.modules() if isinstance(m, torch.nn.Conv2d)
                 and any(m is c for head in (engine.reference.aux1, engine.reference.aux2) for c in head.modules())]
    assert len(convs) == len(reference_convs) - len(aux_convs) - 2 * 9


def test_a_failing_packed_net_falls_back_to_plain_convolutions(engine, monkeypatch, caplog):
    if not onednn_available():
        pytest.skip("this torch has no oneDNN pointwise convolution ops")
    original = PackedConv.forward

    def wrong_when_packed(self, x):
        out = original(self, x)
        return out * 1.01 if self.packed else out  # a 1% error: a broken kernel or layout

    monkeypatch.setattr(PackedConv, "forward", wrong_when_packed)
    net = build_inference_net(engine.fast)
    assert net.packed is False
    assert "differs from the folded model" in caplog.text


def test_inference_net_refuses_what_it_cannot_reproduce(engine, random_model, monkeypatch):
    with pytest.raises(ValueError, match="BatchNorm-folded"):
        build_inference_net(random_model)  # BatchNorm not folded: the net would silently drop it
    with pytest.raises(ValueError, match="dtype"):
        build_inference_net(engine.fast, dtype=torch.float16)
    with pytest.raises(RuntimeError, match="one device"):
        engine.inference.to("cpu")  # packed weights are plain attributes: .to() would skip them
    monkeypatch.setattr(PackedConv, "forward", lambda self, x: torch.zeros(
        x.shape[0], self.out_channels, x.shape[2] // self.geometry.stride[0], x.shape[3] // self.geometry.stride[1]))
    with pytest.raises(RuntimeError, match="does not reproduce"):
        build_inference_net(engine.fast)


def test_classify_batch_equals_per_image_classify(engine):
    batch = engine.classify_batch(EXAMPLE_PHOTOS)
    single = [engine.classify(p) for p in EXAMPLE_PHOTOS]
    assert len(batch) == len(single) == len(EXAMPLE_PHOTOS)
    for b, s in zip(batch, single):
        assert [t.index for t in b.top] == [t.index for t in s.top]
        assert np.abs(b.probabilities - s.probabilities).max() <= 1e-5
        assert b.crop.tobytes() == s.crop.tobytes()
    assert engine.classify_batch([]) == []
