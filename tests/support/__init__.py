"""What the tests share besides fixtures: paths, the example photos, and helpers (see tests/conftest.py for the
fixtures; the launcher and the random weights come from bench/, which the benchmark uses too)."""

from __future__ import annotations

from pathlib import Path

from googlenet.weights import OFFICIAL_FILENAME
from webui.services import ASSETS, example_photos

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE_PHOTOS: list[Path] = [Path(p) for p in example_photos()]
ARTIFACTS = ROOT / "test-artifacts"
FAKE_SPACES = ROOT / "tests" / "fake_spaces"

__all__ = ["ROOT", "ASSETS", "EXAMPLE_PHOTOS", "ARTIFACTS", "FAKE_SPACES", "official_cache_file"]


def official_cache_file(torch_home: Path) -> Path:
    """Where torchvision's cache keeps the official checkpoint under ``torch_home`` (the folder is created)."""
    path = torch_home / "hub" / "checkpoints" / OFFICIAL_FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
