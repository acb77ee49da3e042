"""The command line, run as a user would: `python -m googlenet ...` in a subprocess."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys

import torch

from googlenet.labels import CATEGORIES

from support import EXAMPLE_PHOTOS, ROOT


def run_cli(*args: str, env_extra: dict | None = None, tmp_path=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOOGLENET_")}
    env["TORCH_HOME"] = str(tmp_path / "torch_home")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "googlenet", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_predict_json_on_real_photos(tmp_path, weights_file, engine):
    photos = [str(p) for p in EXAMPLE_PHOTOS[:2]]
    result = run_cli("predict", "--json", "--weights", str(weights_file), "--no-download", *photos, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["weights"].startswith("custom weights")
    assert [r["file"] for r in document["results"]] == photos
    for item, photo in zip(document["results"], photos):
        assert len(item["top"]) == 5
        assert all(s["name"] == CATEGORIES[s["index"]] for s in item["top"])
        expected = engine.classify(photo)  # same weights in-process: same answer
        assert [s["index"] for s in item["top"]] == [s.index for s in expected.top]


def test_predict_text_output(tmp_path, weights_file):
    result = run_cli("predict", "--top", "3", "--weights", str(weights_file), str(EXAMPLE_PHOTOS[0]),
                     tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    ranks = re.findall(r"^\s+(\d+)\. ", result.stdout, flags=re.M)  # the numbered lines, not "(234.7 ms)"
    assert ranks == ["1", "2", "3"]
    assert "custom weights" in result.stdout


def test_predict_offline_without_weights_warns(tmp_path):
    result = run_cli("predict", "--no-download", str(EXAMPLE_PHOTOS[0]), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "untrained weights: predictions are meaningless" in result.stdout


def test_predict_require_pretrained_refuses_offline(tmp_path):
    result = run_cli("predict", "--no-download", "--require-pretrained", str(EXAMPLE_PHOTOS[0]), tmp_path=tmp_path)
    assert result.returncode == 2
    assert "pretrained weights are required" in result.stderr


def test_predict_reports_a_bad_file_and_continues(tmp_path, weights_file):
    bad = tmp_path / "not-an-image.jpg"
    bad.write_text("hello")
    result = run_cli("predict", "--json", "--weights", str(weights_file), str(bad), str(EXAMPLE_PHOTOS[0]),
                     tmp_path=tmp_path)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert "error" in document["results"][0]
    assert len(document["results"][1]["top"]) == 5


def test_download_weights_reports_cached_file(tmp_path, random_state_dict):
    checkpoints = tmp_path / "torch_home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(random_state_dict, checkpoints / "googlenet-1378be20.pth")
    result = run_cli("download-weights", tmp_path=tmp_path)
    # A file that is not the real checkpoint is found, and honestly reported as not matching.
    assert result.returncode == 1
    assert "DOES NOT MATCH" in result.stdout and "googlenet-1378be20.pth" in result.stdout
