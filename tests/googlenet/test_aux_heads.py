"""Train mode and the aux heads: exact parity with a real train-mode forward, and never a write to the shared model.

Several tests run the same harness against the naive approach (``model.train(); model(x)``) to show that they can
fail: the naive approach corrupts the shared model and concurrent eval requests; ours must not.
"""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
import torch.nn as nn
import torchvision

from googlenet.aux_heads import (
    AuxHeadPair,
    AuxHeads,
    AuxHeadsStatus,
    AuxOptions,
    BatchNormMode,
    apply_dropout,
    js_divergence,
    train_mode_forward,
)
from googlenet.aux_weights import aux_state_dict, save_aux_weights, trunk_fingerprint
from googlenet.render.aux_heads import ChartText, render_head_charts

from bench.random_weights import make_random_model
from support import EXAMPLE_PHOTOS

PHOTO = EXAMPLE_PHOTOS[0]


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_same_state(before: dict[str, torch.Tensor], module: nn.Module) -> None:
    after = module.state_dict()
    assert before.keys() == after.keys()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert not changed, f"{len(changed)} tensors changed, e.g. {changed[:3]}"


def tv_twin(state: dict[str, torch.Tensor]) -> torchvision.models.GoogLeNet:
    """torchvision's own GoogLeNet with the same weights: the reference for what train mode computes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tv = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False, dropout=0.0,
                                          dropout_aux=0.0)
    tv.load_state_dict(state, strict=True)
    return tv


@pytest.fixture(scope="module")
def batch() -> torch.Tensor:
    return torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(7))


@pytest.fixture(scope="module")
def aux(engine) -> AuxHeads:
    return AuxHeads(engine)


# ---- parity with a real train-mode forward ----------------------------------------------------------------------


def test_running_statistics_without_dropout_reproduce_eval(random_model, random_state_dict, batch):
    ours = train_mode_forward(random_model, batch, dropout=False, batchnorm=BatchNormMode.RUNNING)
    with torch.no_grad():
        eval_logits = random_model(batch)
    torch.testing.assert_close(ours["main"], eval_logits, rtol=0, atol=1e-5)
    # The aux heads do not run in eval mode; the reference is torchvision in train mode with BatchNorm in eval
    # mode and dropout 0 (torchvision returns its aux heads as aux_logits1/aux_logits2).
    tv = tv_twin(random_state_dict).train()
    for m in tv.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
    with torch.no_grad():
        ref = tv(batch)
    torch.testing.assert_close(ours["main"], ref.logits, rtol=0, atol=1e-5)
    torch.testing.assert_close(ours["aux1"], ref.aux_logits1, rtol=0, atol=1e-5)
    torch.testing.assert_close(ours["aux2"], ref.aux_logits2, rtol=0, atol=1e-5)
    assert ref.aux_logits1.std() > 0.1  # not trivially small


def test_batch_statistics_match_torchvision_train_mode_and_differ_from_eval(random_model, random_state_dict, batch):
    ours = train_mode_forward(random_model, batch, dropout=False, batchnorm=BatchNormMode.BATCH)
    tv = tv_twin(random_state_dict).train()
    with torch.no_grad():
        ref = tv(batch)
        eval_logits = random_model(batch)
    torch.testing.assert_close(ours["main"], ref.logits, rtol=0, atol=1e-4)
    torch.testing.assert_close(ours["aux1"], ref.aux_logits1, rtol=0, atol=1e-4)
    torch.testing.assert_close(ours["aux2"], ref.aux_logits2, rtol=0, atol=1e-4)
    assert (ours["main"] - eval_logits).abs().max() > 0.1


def test_dropout_masks_have_the_right_rate_and_scale():
    x = torch.ones(200_000)
    for p in (0.2, 0.7):
        y = apply_dropout(x, p, torch.Generator().manual_seed(0))
        dropped = float((y == 0).float().mean())
        assert abs(dropped - p) < 0.01
        torch.testing.assert_close(y[y != 0], torch.full_like(y[y != 0], 1 / (1 - p)))
    assert torch.equal(apply_dropout(x, 0.7, None), x)


def test_dropout_probabilities_are_read_from_the_model(random_model):
    heads = AuxHeadPair.copy_of(random_model)
    assert (random_model.dropout.p, heads.aux1.dropout.p, heads.aux2.dropout.p) == (0.2, 0.7, 0.7)


# ---- seeds ------------------------------------------------------------------------------------------------------


def test_same_seed_same_outputs_different_seeds_differ(aux, batch):
    a = aux.run_tensor(batch[:1], AuxOptions(seed=11, repeats=1))
    b = aux.run_tensor(batch[:1], AuxOptions(seed=11, repeats=1))
    c = aux.run_tensor(batch[:1], AuxOptions(seed=12, repeats=1))
    for head in ("main", "aux1", "aux2"):
        assert np.array_equal(a.heads[head].runs, b.heads[head].runs)
        assert not np.array_equal(a.heads[head].runs, c.heads[head].runs)


def test_without_dropout_the_seed_does_not_matter(aux, batch):
    a = aux.run_tensor(batch[:1], AuxOptions(seed=1, dropout=False, repeats=4))
    b = aux.run_tensor(batch[:1], AuxOptions(seed=2, dropout=False, repeats=4))
    assert a.seeds == [1]  # one computation: every run would be identical
    for head in ("main", "aux1", "aux2"):
        assert np.array_equal(a.heads[head].runs, b.heads[head].runs)


def test_dropout_ignores_and_preserves_the_global_rng(aux, batch):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = aux.run_tensor(batch[:1], AuxOptions(seed=5))
    assert torch.equal(torch.get_rng_state(), state)  # the process-wide RNG was not used
    torch.manual_seed(456)
    b = aux.run_tensor(batch[:1], AuxOptions(seed=5))
    assert np.array_equal(a.heads["aux1"].runs, b.heads["aux1"].runs)


def test_repeated_runs_show_the_spread(aux, batch):
    result = aux.run_tensor(batch[:1], AuxOptions(seed=3, repeats=5))
    assert result.seeds == [3, 4, 5, 6, 7]
    main = result.heads["main"]
    assert main.runs.shape == (5, 1000)
    assert len({tuple(r) for r in main.runs.round(6)}) == 5
    np.testing.assert_allclose(main.probabilities, main.runs.mean(axis=0))
    for score, (lo, hi) in zip(main.top, main.spread):
        assert lo <= score.probability <= hi
    # The first run equals a single run with the same seed: the repeats do not disturb each other.
    single = aux.run_tensor(batch[:1], AuxOptions(seed=3, repeats=1))
    np.testing.assert_array_equal(single.heads["aux2"].runs[0], result.heads["aux2"].runs[0])


def test_companion_images_change_batch_statistics_only(aux, batch):
    alone = aux.run_tensor(batch[:1], AuxOptions(dropout=False))
    together = aux.run_tensor(batch, AuxOptions(dropout=False))
    assert together.batch_size == 2
    assert js_divergence(alone.heads["main"].probabilities, together.heads["main"].probabilities) > 1e-4
    alone_r = aux.run_tensor(batch[:1], AuxOptions(dropout=False, batchnorm="running"))
    together_r = aux.run_tensor(batch, AuxOptions(dropout=False, batchnorm="running"))
    np.testing.assert_allclose(alone_r.heads["aux1"].probabilities, together_r.heads["aux1"].probabilities,
                               atol=1e-5)


def test_eval_mode_runs_only_the_main_head(aux, engine):
    result = aux.run(PHOTO, AuxOptions(train_mode=False))
    assert set(result.heads) == {"main"}
    lone = engine.classify(PHOTO)
    assert result.heads["main"].top[0].index == lone.top[0].index
    assert result.agreement == []


def test_agreement_and_js_divergence(aux, batch):
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.0, 0.0, 1.0])
    assert js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence(p, q) == pytest.approx(1.0)
    r = np.array([0.7, 0.2, 0.1])
    assert js_divergence(p, r) == pytest.approx(js_divergence(r, p))
    result = aux.run_tensor(batch[:1], AuxOptions(repeats=3))
    pairs = [(a.a, a.b) for a in result.agreement]
    assert pairs == [("main", "aux1"), ("main", "aux2"), ("aux1", "aux2")]
    for a in result.agreement:
        ha, hb = result.heads[a.a], result.heads[a.b]
        assert a.top1_agree == (ha.top[0].index == hb.top[0].index)
        assert a.js_divergence == pytest.approx(js_divergence(ha.probabilities, hb.probabilities))
        assert 0.0 <= a.top1_agreement_rate <= 1.0
    assert result.train_vs_eval_js == pytest.approx(
        js_divergence(result.heads["main"].probabilities, result.eval_main.probabilities))


# ---- the shared model is never touched ---------------------------------------------------------------------------


def test_shared_model_is_bit_identical_after_many_train_mode_requests(aux, engine, batch):
    before_ref, before_fast, before_heads = snapshot(engine.reference), snapshot(engine.fast), snapshot(aux.heads)
    for i, (bn, dropout) in enumerate([("batch", True), ("running", True), ("batch", False), ("running", False)] * 3):
        aux.run_tensor(batch if i % 2 else batch[:1], AuxOptions(seed=i, dropout=dropout, batchnorm=bn, repeats=2))
    aux.run(PHOTO, AuxOptions(repeats=2), companions=EXAMPLE_PHOTOS[1:3])
    assert_same_state(before_ref, engine.reference)
    assert_same_state(before_fast, engine.fast)
    assert_same_state(before_heads, aux.heads)
    assert not any(m.training for m in engine.reference.modules())
    assert not any(m.training for m in aux.heads.modules())


def naive_train_mode_request(model: nn.Module, x: torch.Tensor):
    """What this module must NOT do: flip the shared model into train mode for one request."""
    model.train()
    try:
        with torch.no_grad():
            return model(x)
    finally:
        model.eval()


def test_naive_train_mode_would_corrupt_the_model(random_model, batch):
    before = snapshot(random_model)
    with torch.no_grad():
        eval_before = random_model(batch)
    naive_train_mode_request(random_model, batch)
    with pytest.raises(AssertionError, match="tensors changed"):
        assert_same_state(before, random_model)  # the check used above does catch it
    changed = [k for k in before if not torch.equal(before[k], random_model.state_dict()[k])]
    assert all(k.endswith(("running_mean", "running_var", "num_batches_tracked")) for k in changed)
    assert len(changed) == 3 * sum(isinstance(m, nn.BatchNorm2d) for m in random_model.modules())
    with torch.no_grad():
        assert (random_model(batch) - eval_before).abs().max() > 1e-3


def ours_train_mode_request(model: nn.Module, x: torch.Tensor):
    return train_mode_forward(model, x, dropout=True, seed=0, batchnorm=BatchNormMode.BATCH)


@pytest.mark.parametrize("request_fn,corrupts", [(naive_train_mode_request, True), (ours_train_mode_request, False)],
                         ids=["naive", "ours"])
def test_eval_request_during_a_train_mode_request(random_model, batch, request_fn, corrupts):
    """Deterministic interleaving: the train-mode request is paused mid-forward while an eval request runs.

    A pre-hook on one convolution (of this test's private model) pauses it; both approaches call that module.
    """
    x = batch[:1]
    with torch.no_grad():
        lone = random_model(x).clone()
    paused, resume = threading.Event(), threading.Event()

    def pause(module, args):
        if threading.current_thread().name == "train-request" and not paused.is_set():
            paused.set()
            assert resume.wait(30)

    handle = random_model.inception4a.branch1.conv.register_forward_pre_hook(pause)
    worker = threading.Thread(target=request_fn, args=(random_model, x), name="train-request")
    try:
        worker.start()
        assert paused.wait(30)
        with torch.no_grad():
            during = random_model(x)  # the eval request of another user
    finally:
        resume.set()
        worker.join(30)
        handle.remove()
    during_logits = during.logits if isinstance(during, tuple) else during
    same = isinstance(during, torch.Tensor) and torch.equal(during_logits, lone)
    assert same != corrupts


def test_concurrent_eval_requests_return_the_lone_result(aux, engine, batch):
    x = batch[:1]
    lone_fast = engine.logits(x)
    with torch.inference_mode():
        lone_ref = engine.reference(x).clone()
    lone_aux = aux.run_tensor(x, AuxOptions(seed=9, repeats=2))

    def eval_fast(_):
        return torch.equal(engine.logits(x), lone_fast)

    def eval_ref(_):
        with torch.inference_mode():
            return torch.equal(engine.reference(x), lone_ref)

    def train_mode(i):
        bn = "batch" if i % 2 else "running"
        aux.run_tensor(batch, AuxOptions(seed=i, batchnorm=bn, repeats=2))
        again = aux.run_tensor(x, AuxOptions(seed=9, repeats=2))
        return np.array_equal(again.heads["aux1"].runs, lone_aux.heads["aux1"].runs)

    jobs = [train_mode, eval_fast, eval_ref] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda ij: ij[1](ij[0]), enumerate(jobs)))
    assert all(results), results


# ---- honesty about the aux heads ---------------------------------------------------------------------------------


def test_the_notice_is_drawn_on_the_aux_charts_only(aux, batch):
    import matplotlib.pyplot as plt

    result = aux.run_tensor(batch[:1], AuxOptions(repeats=3))
    titles = {"main": "main", "aux1": "aux1", "aux2": "aux2"}
    plain = np.asarray(render_head_charts(result, ChartText.load().with_heads(titles, {})))
    noticed = np.asarray(render_head_charts(result, ChartText.load().with_heads(
        titles, {"aux1": "UNTRAINED: noise", "aux2": "UNTRAINED: noise"})))
    assert plain.shape == noticed.shape and plain.shape[2] == 3
    third = plain.shape[1] // 3
    assert np.array_equal(plain[:, :third - 20], noticed[:, :third - 20])  # the main chart is untouched
    assert not np.array_equal(plain[:, third + 20:2 * third - 20], noticed[:, third + 20:2 * third - 20])
    assert not np.array_equal(plain[:, 2 * third + 20:], noticed[:, 2 * third + 20:])
    assert plt.get_fignums() == []  # nothing left open


def test_distilled_for_another_trunk_is_flagged(engine, tmp_path):
    other = make_random_model(seed=1)
    path = tmp_path / "other.pt"
    save_aux_weights(aux_state_dict(other), {"trunk_fingerprint": trunk_fingerprint(other)}, path)
    info = AuxHeads(engine, path).info
    assert info.status is AuxHeadsStatus.DISTILLED and info.trunk_mismatch


def test_aux_weights_load_into_a_private_copy_only(engine, tmp_path):
    before = snapshot(engine.reference)
    other = make_random_model(seed=2)
    path = tmp_path / "aux.pt"
    save_aux_weights(aux_state_dict(other), {}, path)
    heads = AuxHeads(engine, path)
    assert_same_state(before, engine.reference)
    assert torch.equal(heads.heads.aux1.fc2.weight, other.aux1.fc2.weight)
    assert not torch.equal(heads.heads.aux1.fc2.weight, engine.reference.aux1.fc2.weight)


def test_invalid_options_are_rejected():
    with pytest.raises(ValueError):
        AuxOptions(repeats=0)
    with pytest.raises(ValueError):
        AuxOptions(batchnorm="sometimes")
    with pytest.raises(ValueError):
        AuxOptions(seed=-1)
