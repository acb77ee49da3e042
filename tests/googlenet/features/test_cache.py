"""The disk cache of visualizations: the same bytes back, keyed by weights, unit, settings and seed; found by a
new process; bounded in size; a damaged entry is a miss. And render-features: resumable, the same result as an
uninterrupted run."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from googlenet.cli import main
from googlenet.features import FeatureCache, FeatureSettings, final, visualize, weights_id
from googlenet.units import Unit
from support import ROOT

SETTINGS = FeatureSettings(steps=2, size=64)


@pytest.fixture(scope="module")
def rendered(engine):
    return final(visualize(engine.fast, Unit("inception3a", "branch2", 1), SETTINGS))


def test_a_stored_visualization_comes_back_with_the_same_bytes(tmp_path, engine, rendered):
    cache = FeatureCache(tmp_path)
    wid = weights_id(engine)
    assert wid == engine.weights.sha256 and cache.get(wid, rendered.target, SETTINGS) is None
    cache.put(wid, rendered)
    back = cache.get(wid, rendered.target, SETTINGS)
    assert back is not None and back.images[0].tobytes() == rendered.images[0].tobytes()
    assert back.objective == pytest.approx(rendered.objective) and back.target == rendered.target
    # every part of the key matters: other weights, another seed, another unit are misses
    assert cache.get("0" * 64, rendered.target, SETTINGS) is None
    assert cache.get(wid, rendered.target, FeatureSettings(steps=2, size=64, seed=1)) is None
    assert cache.get(wid, Unit("inception3a", "branch2", 2), SETTINGS) is None


def test_a_new_process_finds_the_cache(tmp_path, engine, rendered):
    FeatureCache(tmp_path).put(weights_id(engine), rendered)
    code = (
        "import sys; from googlenet.features import FeatureCache, FeatureSettings; from googlenet.units import Unit\n"
        f"hit = FeatureCache(sys.argv[1]).get({weights_id(engine)!r}, Unit('inception3a', 'branch2', 1), "
        "FeatureSettings(steps=2, size=64))\n"
        "print(hit.images[0].tobytes().hex() if hit else 'MISS')\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == rendered.images[0].tobytes().hex()


def test_the_cache_keeps_to_its_size_cap_dropping_the_least_recently_used(tmp_path, engine, rendered):
    from dataclasses import replace

    wid = weights_id(engine)
    probe = FeatureCache(tmp_path / "probe")
    entry_bytes = sum(f.stat().st_size for f in probe.put(wid, rendered).iterdir())
    cache = FeatureCache(tmp_path / "capped", max_bytes=int(entry_bytes * 2.5))
    seeds = [replace(rendered, settings=replace(SETTINGS, seed=s)) for s in range(3)]
    cache.put(wid, seeds[0])
    time.sleep(0.02)
    cache.put(wid, seeds[1])
    time.sleep(0.02)
    assert cache.get(wid, rendered.target, seeds[0].settings) is not None  # seed 0 is now the most recent
    time.sleep(0.02)
    cache.put(wid, seeds[2])  # over the cap: seed 1, the least recently used, goes
    kept = [cache.get(wid, rendered.target, s.settings) is not None for s in seeds]
    assert kept == [True, False, True]
    assert sum(size for _, size, _ in cache.entries()) <= cache.max_bytes


def test_a_damaged_entry_is_a_miss(tmp_path, engine, rendered):
    cache = FeatureCache(tmp_path)
    folder = cache.put(weights_id(engine), rendered)
    (folder / "0.png").write_bytes(b"not a png")
    assert cache.get(weights_id(engine), rendered.target, SETTINGS) is None


def render_cli(out, weights_file, *extra: str) -> int:
    return main(["render-features", "--modules", "inception3a", "--out", str(out), "--steps", "2", "--size", "64",
                 "--weights", str(weights_file), "--no-download", "--device", "cpu", "--no-progress", *extra])


def images_in(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.glob("*/*/*.png"))}


def test_render_features_resumes_and_equals_an_uninterrupted_run(tmp_path, weights_file, capsys):
    interrupted, whole = tmp_path / "interrupted", tmp_path / "whole"
    assert render_cli(interrupted, weights_file, "--limit", "2") == 0  # stopped after two units
    assert len(images_in(interrupted)) == 2
    first = images_in(interrupted)
    capsys.readouterr()
    assert render_cli(interrupted, weights_file, "--limit", "3") == 0  # resumed: the two are skipped
    assert "3 rendered, 2 already there" in capsys.readouterr().out
    assert render_cli(whole, weights_file, "--limit", "5") == 0
    resumed = images_in(interrupted)
    assert len(resumed) == 5 and resumed == images_in(whole)
    assert {k: resumed[k] for k in first} == first
    names = sorted({p.parent.parent.name for p in interrupted.glob("*/*/0.png")})
    assert names == [f"inception3a.branch1.{i}" for i in range(5)]  # network order: module, branch, channel


def test_render_features_refuses_an_unknown_module(tmp_path, weights_file):
    assert main(["render-features", "--modules", "inception9z", "--out", str(tmp_path), "--weights",
                 str(weights_file), "--no-download", "--device", "cpu", "--no-progress"]) == 2
    assert not any(tmp_path.iterdir())


def test_untrained_weights_are_keyed_by_their_tensors(engine):
    from googlenet.integrity import state_dict_sha256
    from googlenet.weights import WeightsInfo, WeightsKind

    class Untrained:  # what weights_id reads of an engine
        weights = WeightsInfo(WeightsKind.UNTRAINED, None, None, "none")
        reference = engine.reference

    assert weights_id(Untrained()) == state_dict_sha256(engine.reference.state_dict())
