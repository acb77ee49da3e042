"""bench/: the benchmark runs end to end in quick mode (its numbers are reported, never asserted as speed targets:
those live in the benchmark itself), and refuses what it does not know."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support import ROOT


def test_benchmark_script_runs_end_to_end_in_quick_mode(tmp_path):
    out = tmp_path / "bench.json"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TORCH_HOME": str(tmp_path / "torch_home"),
           "OMP_NUM_THREADS": "2", "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "benchmark.py"), "--quick", "--json", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert "random checkpoint" in report["weights"]  # an empty TORCH_HOME: no official weights
    forward = report["forward"]
    assert forward["ok"] and forward["max_abs_logit_diff"] <= 1e-4
    assert forward["rows"][0]["model"] == "torchvision eval" and forward["ratio"] > 0
    assert {r["batch"] for r in report["throughput"]["rows"]} == {2}
    assert report["capture"]["available"] in (True, False)  # "not available" while googlenet.activations is absent
    index = report["photo_index"]
    assert index["available"] and index["photos"] == 32 and index["photos_per_s"] > 0
    methods = {r["method"] for r in report["attributions"]["rows"]}
    from googlenet.attributions import METHODS

    assert set(METHODS) <= methods
    serving = report["serving"]
    classify = next(r for r in serving["rows"] if r["endpoint"] == "/classify")
    assert classify["one_client"]["errors"] == 0 and classify["one_client"]["requests"] >= 1
    assert classify["many_clients"]["requests"] >= 1
    assert classify["http"]["errors"] == 0 and classify["http"]["requests"] >= 1  # the REST API, no gradio_client
    floor = serving["floor"]
    assert floor["available"] and floor["one_client"]["errors"] == 0 and floor["http"]["requests"] >= 1
    assert serving["cold_start_s"] > 0 and serving["peak_rss_mb"] > 0 and classify["rss_peak_mb"] > 0
    first = report["first_answer"]
    assert first["available"] and first["gradio_client"]["ratio_classify"] > 0 and "met" in first
    live = report["live"]
    assert live["available"] and live["one_viewer"]["updates"] > 0 and len(live["four_viewers"]) == 4
    assert "| torchvision eval |" in done.stdout and "RESULT: PASS" in done.stdout


def test_benchmark_refuses_unknown_sections(capsys):
    from bench import benchmark

    with pytest.raises(SystemExit) as exited:
        benchmark.main(["--quick", "--sections", "forward,warp-drive"])
    assert exited.value.code == 2 and "warp-drive" in capsys.readouterr().err
