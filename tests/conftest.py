"""Shared fixtures: a random-weight GoogLeNet with *calibrated* BatchNorm statistics (bench/random_weights.py),
checkpoints in the official file format, an engine, and the app: served from this process for the API and browser
tests (fast), or as a separate process where its memory, environment or survival is what is tested.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported anywhere

import pytest  # noqa: E402
import torch  # noqa: E402

from bench.launcher import Server, in_process_app, launched_app  # noqa: E402
from bench.random_weights import make_random_model  # noqa: E402
from googlenet.model import GoogLeNet  # noqa: E402
from googlenet.weights import WeightsInfo, WeightsKind, load_model, sha256_of  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

# The browser tests' shared steps assert too: rewritten like a test module's asserts, they report the values compared
pytest.register_assert_rewrite("tests.webui.browser_support")


@pytest.fixture(scope="session")
def random_state_dict() -> dict[str, torch.Tensor]:
    """The state dict of a calibrated random GoogLeNet, in torchvision's format (aux heads included)."""
    return {k: v.clone() for k, v in make_random_model().state_dict().items()}


@pytest.fixture()
def random_model(random_state_dict) -> GoogLeNet:
    """A fresh calibrated random-weight model per test (tests may change it)."""
    model = GoogLeNet(aux_logits=True, transform_input=False)
    model.load_state_dict(random_state_dict, strict=True)
    return model.eval()


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory, random_state_dict) -> Path:
    """A random checkpoint saved the way torchvision saves its checkpoints (a plain state dict)."""
    path = tmp_path_factory.mktemp("weights") / "googlenet-random.pth"
    torch.save(random_state_dict, path)
    return path


@pytest.fixture(scope="session")
def weights_info(weights_file) -> WeightsInfo:
    return WeightsInfo(kind=WeightsKind.CUSTOM, path=weights_file, sha256=sha256_of(weights_file), source="explicit")


@pytest.fixture(scope="session")
def engine(weights_info):
    """A CPU engine over the random checkpoint (loaded through the real loading code)."""
    from googlenet.inference import Engine

    return Engine(load_model(weights_info), weights_info, torch.device("cpu"))


@pytest.fixture()
def torch_home(tmp_path, monkeypatch) -> Path:
    """An empty, private TORCH_HOME: nothing cached, so resolution code cannot see the user's real cache."""
    home = tmp_path / "torch_home"
    home.mkdir()
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.delenv("GOOGLENET_WEIGHTS", raising=False)
    return home


@pytest.fixture(scope="session")
def settings(weights_file, tmp_path_factory):
    """The app's settings for the random checkpoint on the CPU, downloads off, feature visualizations cached in a
    private folder."""
    from webui.settings import Settings

    return Settings(weights=str(weights_file), device="cpu", allow_download=False,
                    features=str(tmp_path_factory.mktemp("features")))


@pytest.fixture(scope="session")
def app_server(settings) -> Iterator[Server]:
    """The app served from this process (the API and browser tests), with the random checkpoint."""
    with in_process_app(settings) as server:
        yield server


@pytest.fixture(scope="session")
def client(app_server):
    return app_server.client()


@pytest.fixture(scope="session")
def services(app_server):
    """The served app's shared objects (its engine, aux heads, attributor), for tests that call the tabs directly."""
    return app_server.app.services


@pytest.fixture(scope="session")
def app_process(tmp_path_factory, weights_file) -> Iterator[Server]:
    """``python app.py`` as its own process: for what is measured on the server process (memory, survival)."""
    with launched_app(tmp_path_factory.mktemp("app"), weights_file) as server:
        yield server
