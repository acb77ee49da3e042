"""Shared fixtures: a random-weight GoogLeNet with *calibrated* BatchNorm statistics, checkpoints in the official
file format, an engine, and a launched app.

Why calibrate: with a fresh random init, BatchNorm's running statistics (mean 0, var 1) do not match the real
activations, so eval-mode activations shrink layer by layer to almost nothing and any comparison "passes". Running a
few train-mode forwards over random images (momentum=None: a plain average) gives statistics that keep activations
at a healthy scale, so parity tests can actually fail.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from googlenet.model import GoogLeNet  # noqa: E402
from googlenet.weights import OFFICIAL_FILENAME, WeightsInfo, WeightsKind, load_model, sha256_of  # noqa: E402

ASSETS = ROOT / "assets"
EXAMPLE_PHOTOS = sorted(p for p in ASSETS.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
ARTIFACTS = ROOT / "test-artifacts"

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def calibrate_batchnorm(model: torch.nn.Module, batches: int = 4, batch_size: int = 8, size: int = 224,
                        seed: int = 0) -> None:
    """Set every BatchNorm's running statistics to the average over random images, then return to eval mode."""
    generator = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(batch_size, 3, size, size, generator=generator))
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 0.1
    model.eval()


def make_random_model(seed: int = 0) -> GoogLeNet:
    """A GoogLeNet with torchvision's random init and calibrated BatchNorm statistics (eval mode)."""
    torch.manual_seed(seed)
    model = GoogLeNet(aux_logits=True, transform_input=False)
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
    # Scale up the linear layers so the logits are spread out (std 0.01 gives a near-uniform softmax, which makes
    # top-k comparisons fragile). Conv weights need no scaling: calibrated BatchNorm normalizes their outputs.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(5.0)
    calibrate_batchnorm(model, seed=seed)
    return model


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


def official_cache_file(torch_home: Path) -> Path:
    path = torch_home / "hub" / "checkpoints" / OFFICIAL_FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------------------------------
# A launched app
# ---------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LaunchedApp:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self):
        from gradio_client import Client

        return Client(self.url, verbose=False)


def launch_app(tmp_dir: Path, weights: Optional[Path], *, extra_args: tuple[str, ...] = (),
               extra_env: Optional[dict[str, str]] = None, timeout: float = 180.0) -> LaunchedApp:
    """Start ``python app.py`` on 127.0.0.1 and a free port; wait until it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "GOOGLENET_", "SPACE"))}
    env.update(
        TORCH_HOME=str(tmp_dir / "torch_home"),  # never the user's cache, never a download
        GOOGLENET_NO_DOWNLOAD="1",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"),
    )
    if extra_env:
        env.update(extra_env)
    args = [sys.executable, str(ROOT / "app.py"), "--port", str(port)]
    if weights is not None:
        args += ["--weights", str(weights)]
    args += list(extra_args)
    log_path = tmp_dir / f"app-{port}.log"
    log_file = open(log_path, "w")
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url + "gradio_api/info", timeout=2) as response:
                if response.status == 200:
                    return LaunchedApp(url, process, log_path)
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"app did not answer within {timeout} s:\n{log_path.read_text()}")


def stop_app(app: LaunchedApp) -> None:
    app.process.terminate()
    try:
        app.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        app.process.kill()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, weights_file) -> Iterator[LaunchedApp]:
    """One app for the API tests, serving the random checkpoint."""
    app = launch_app(tmp_path_factory.mktemp("app"), weights_file)
    yield app
    stop_app(app)


@pytest.fixture(scope="session")
def client(app_server):
    return app_server.client()
