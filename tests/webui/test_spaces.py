"""Hugging Face Spaces packaging: the README front matter, the ZeroGPU shim, and the app under Spaces' environment."""

from __future__ import annotations

import importlib
import re
import sys
import types
from pathlib import Path

import pytest
import yaml
from PIL import Image

from bench.launcher import launched_app
from support import FAKE_SPACES, ROOT

SPACES_COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


def front_matter() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, "README.md must start with a --- YAML front matter block (Hugging Face Spaces reads it)"
    return yaml.safe_load(match.group(1))


def pinned_gradio() -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"\s*gradio(\[[a-z,\s]*\])?\s*==\s*([^\s;#]+)", line)  # extras allowed: gradio[mcp]
        if match:
            return match.group(2)
    raise AssertionError("requirements.txt must pin gradio with == (Spaces installs sdk_version)")


# ---------------------------------------------------------------------------------------------------------------
# README front matter
# ---------------------------------------------------------------------------------------------------------------


def test_front_matter_sdk_version_equals_pinned_gradio() -> None:
    meta = front_matter()
    assert meta["sdk"] == "gradio"
    assert str(meta["sdk_version"]) == pinned_gradio()


def test_installed_gradio_is_the_pinned_one() -> None:
    import gradio

    assert gradio.__version__ == pinned_gradio(), "the tests must run the Gradio that Spaces will run"


def test_front_matter_fields() -> None:
    meta = front_matter()
    assert meta["title"] and len(meta["title"]) <= 30
    assert meta["emoji"] and not meta["emoji"].isascii()
    assert meta["colorFrom"] in SPACES_COLOURS and meta["colorTo"] in SPACES_COLOURS
    assert meta["app_file"] == "app.py" and (ROOT / meta["app_file"]).is_file()
    assert meta["license"]
    assert 0 < len(meta["short_description"]) <= 60, "Spaces rejects a short_description over 60 characters"


def test_readme_still_reads_as_a_readme_after_the_front_matter() -> None:
    body = re.sub(r"\A---\n.*?\n---\n", "", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.DOTALL)
    assert body.lstrip().startswith("# "), "the first thing after the front matter is the project's title"


# ---------------------------------------------------------------------------------------------------------------
# The ZeroGPU shim
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture()
def reload_zerogpu(monkeypatch):
    """Reload zerogpu under a patched sys.modules and environment, and restore the real module afterwards."""

    def reload(spaces_module, zero_gpu: bool = True):
        monkeypatch.setitem(sys.modules, "spaces", spaces_module)  # None makes `import spaces` fail
        if zero_gpu:
            monkeypatch.setenv("SPACES_ZERO_GPU", "true")
        else:
            monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
        from webui import zerogpu

        return importlib.reload(zerogpu)

    yield reload
    monkeypatch.undo()
    from webui import zerogpu

    importlib.reload(zerogpu)


def test_gpu_is_a_no_op_without_spaces(reload_zerogpu) -> None:
    zerogpu = reload_zerogpu(None)

    def f(x: int) -> int:
        return x + 1

    assert not zerogpu.ZEROGPU
    assert zerogpu.gpu(f) is f
    assert zerogpu.gpu(duration=30)(f) is f
    assert zerogpu.gpu(duration=lambda x: x)(f) is f


def test_gpu_is_a_no_op_on_a_space_without_zerogpu(reload_zerogpu) -> None:
    """An ordinary Space (CPU or a dedicated GPU) has the spaces package too, without SPACES_ZERO_GPU."""
    zerogpu = reload_zerogpu(types.SimpleNamespace(GPU=lambda *a, **k: pytest.fail("spaces.GPU used")),
                             zero_gpu=False)

    def f(x: int) -> int:
        return x + 1

    assert not zerogpu.ZEROGPU and zerogpu.gpu(f) is f


def test_gpu_uses_spaces_gpu_on_zerogpu(reload_zerogpu) -> None:
    calls: list[tuple[str, object]] = []

    def fake_gpu(fn=None, *, duration=None):
        def decorate(f):
            def wrapper(*args):
                calls.append((f.__name__, duration(*args) if callable(duration) else duration))
                return f(*args)

            return wrapper

        return decorate(fn) if fn is not None else decorate

    zerogpu = reload_zerogpu(types.SimpleNamespace(GPU=fake_gpu))

    @zerogpu.gpu
    def plain(x: int) -> int:
        return x * 2

    @zerogpu.gpu(duration=120)
    def long_job(x: int) -> int:
        return x * 3

    @zerogpu.gpu(duration=lambda x: 10 * x)
    def sized(x: int) -> int:
        return x * 4

    assert zerogpu.ZEROGPU
    assert plain(2) == 4 and long_job(2) == 6 and sized(3) == 12
    assert calls == [("plain", None), ("long_job", 120), ("sized", 30)]
    assert zerogpu.cpu_function(sized)(3) == 12 and len(calls) == 3  # the same function, not scheduled


# ---------------------------------------------------------------------------------------------------------------
# The app under Spaces' environment
# ---------------------------------------------------------------------------------------------------------------

SPACES_ENV = {
    "SYSTEM": "spaces",
    "SPACE_ID": "teacher/googlenet-explorer",
    "SPACE_AUTHOR_NAME": "teacher",
    "SPACE_REPO_NAME": "googlenet-explorer",
    "SPACE_HOST": "teacher-googlenet-explorer.hf.space",
    "SPACES_ZERO_GPU": "true",
}


def test_default_host_on_spaces(monkeypatch) -> None:
    from webui.settings import Settings, default_host

    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert default_host() == "127.0.0.1"
    monkeypatch.setenv("SPACE_ID", SPACES_ENV["SPACE_ID"])
    assert default_host() == "0.0.0.0"
    assert Settings.from_env().host == "0.0.0.0"


def test_app_builds_and_answers_under_spaces_env(tmp_path: Path, weights_file: Path) -> None:
    """Spaces' variables set, a `spaces` package importable (a stand-in), no --host: the app binds 0.0.0.0,
    runs its GPU work through spaces.GPU (imported before torch) and answers /classify and /report."""
    env = dict(SPACES_ENV, PYTHONPATH=str(FAKE_SPACES))
    with launched_app(tmp_path, weights_file, extra_env=env, host=None) as app:
        check_spaces_app(app)


def check_spaces_app(app) -> None:  # noqa: ANN001 - a bench.launcher.Server
    try:
        from gradio_client import handle_file

        client = app.client()
        top5, crop, summary, raw = client.predict(handle_file(str(ROOT / "assets" / "chelsea.png")), True,
                                                  api_name="/classify")
        assert len(raw["top"]) == 5
        assert len(top5["confidences"]) == 5
        with Image.open(crop) as image:
            assert image.size == (224, 224)
        report = client.predict(handle_file(str(ROOT / "assets" / "coffee.png")), "pdf", api_name="/report")
        assert Path(report).read_bytes().startswith(b"%PDF")
        log = app.log()
        assert "fake-spaces: imported; torch imported before spaces: False" in log
        assert "ZeroGPU: GPU work runs under spaces.GPU" in log
        assert log.count("fake-spaces: GPU call classify_on_device") >= 2
        assert "0.0.0.0" in log, "on Spaces the app must bind 0.0.0.0"
        assert "Traceback" not in log
    except Exception:
        print(app.log())  # shown by pytest on failure
        raise


# ---------------------------------------------------------------------------------------------------------------
# Offline by default: no telemetry unless asked for
# ---------------------------------------------------------------------------------------------------------------

ANALYTICS_PROBE = """
import json, os, sys
from webui.server import create_app
from webui.settings import Settings
import gradio.analytics as analytics
app = create_app(Settings.from_env().with_argv(sys.argv[1:]))
print(json.dumps({"env": os.environ.get("GRADIO_ANALYTICS_ENABLED"), "gradio": analytics.analytics_enabled(),
                  "blocks": app.demo.analytics_enabled, "page_config": app.demo.config["analytics_enabled"],
                  "hf_telemetry_off": os.environ.get("HF_HUB_DISABLE_TELEMETRY")}))
"""


@pytest.mark.parametrize("variable,enabled", [(None, False), ("True", True), ("False", False)])
def test_gradio_analytics_are_off_unless_the_user_turns_them_on(tmp_path, weights_file, variable, enabled) -> None:
    import json
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "GOOGLENET_", "SPACE"))}
    env.update(TORCH_HOME=str(tmp_path), GOOGLENET_NO_DOWNLOAD="1", HOME=str(tmp_path))
    if variable is not None:
        env["GRADIO_ANALYTICS_ENABLED"] = variable
    done = subprocess.run([sys.executable, "-c", ANALYTICS_PROBE, "--weights", str(weights_file)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["gradio"] is enabled and report["blocks"] is enabled and report["page_config"] is enabled, report
    assert report["env"] == ("True" if enabled else "False")
    if not enabled:
        assert report["hf_telemetry_off"] == "True"  # Gradio also turns off huggingface_hub's telemetry then
