"""``python -m googlenet index-photos`` as a user runs it: a folder into an index, shards merged into the same file."""

from __future__ import annotations

import os
import subprocess
import sys

from googlenet.photo_index import load_index

from support import ROOT


def run_cli(*args: str, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOOGLENET_")}
    env["TORCH_HOME"] = str(tmp_path / "torch_home")
    return subprocess.run([sys.executable, "-m", "googlenet", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_index_photos_and_merge_through_the_command_line(tmp_path, photo_folder, weights_file, weights_info):
    common = ["--weights", str(weights_file), "--no-download", "--batch-size", "4", "--k", "3", "--no-progress"]
    whole = run_cli("index-photos", str(photo_folder), "--out", str(tmp_path / "whole.npz"), *common,
                    tmp_path=tmp_path)
    assert whole.returncode == 0, whole.stderr
    assert "10 photos indexed, 1 skipped (unreadable)" in whole.stdout and "photos/s" in whole.stdout
    assert "skipping broken.jpg" in whole.stderr  # each unreadable photo is logged
    index = load_index(tmp_path / "whole.npz", weights_sha256=weights_info.sha256)
    assert len(index.photos) == 11 and index.k == 3 and index.root == str(photo_folder.resolve())

    for i in range(2):
        shard = run_cli("index-photos", str(photo_folder), "--out", str(tmp_path / f"s{i}.npz"), "--shard", f"{i}/2",
                        *common, tmp_path=tmp_path)
        assert shard.returncode == 0, shard.stderr
    merged = run_cli("index-photos", "--merge", str(tmp_path / "s1.npz"), str(tmp_path / "s0.npz"), "--out",
                     str(tmp_path / "merged.npz"), tmp_path=tmp_path)
    assert merged.returncode == 0, merged.stderr
    assert "11 photos from 2 indexes (1 unreadable)" in merged.stdout
    assert (tmp_path / "merged.npz").read_bytes() == (tmp_path / "whole.npz").read_bytes()


def test_untrained_weights_and_bad_shards_are_refused(tmp_path, photo_folder, weights_file):
    untrained = run_cli("index-photos", str(photo_folder), "--out", str(tmp_path / "i.npz"), "--no-download",
                        tmp_path=tmp_path)
    assert untrained.returncode == 2 and "untrained weights would mean nothing" in untrained.stderr
    shard = run_cli("index-photos", str(photo_folder), "--out", str(tmp_path / "i.npz"), "--weights",
                    str(weights_file), "--shard", "3/2", tmp_path=tmp_path)
    assert shard.returncode == 2 and "bad shard 3/2" in shard.stderr
    both = run_cli("index-photos", str(photo_folder), "--merge", "a.npz", "--out", str(tmp_path / "i.npz"),
                   tmp_path=tmp_path)
    assert both.returncode == 2
