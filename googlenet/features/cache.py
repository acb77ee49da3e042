"""A disk cache of finished visualizations, keyed by the weights' sha256, the target, the settings and the seed.

A second request for the same visualization is answered from disk without running the network, also after a
restart; ``python -m googlenet render-features`` fills the same layout ahead of time, so a folder rendered once on a
GPU can be copied to classroom machines (``--features DIR``). Layout: ``DIR/<target key>/<digest>/`` holding
``0.png`` (``0..3.png`` for diversity) and ``meta.json``. Entries are written to a temporary folder and renamed
into place (a reader never sees half an entry; two writers of the same entry both write the same bytes). Beyond
``max_bytes`` the least recently used entries are deleted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import numpy as np
from PIL import Image

from ..integrity import state_dict_sha256
from ..units import Unit
from .render import Visualization
from .replica import ClassTarget, Target
from .settings import FeatureSettings

if TYPE_CHECKING:
    from ..inference import Engine

__all__ = ["FeatureCache", "weights_id", "entry_digest", "CACHE_VERSION", "DEFAULT_MAX_BYTES"]

log = logging.getLogger(__name__)

#: Part of every key: a change of method (parameterization, transforms, objectives) must not serve old images.
CACHE_VERSION = 1
DEFAULT_MAX_BYTES = 256 * 1024 * 1024

_ids: "weakref.WeakKeyDictionary[object, str]" = weakref.WeakKeyDictionary()
_ids_lock = threading.Lock()


def weights_id(engine: "Engine") -> str:
    """The weights' sha256: the file's when there is one, else (untrained weights) a hash of the loaded tensors."""
    if engine.weights.sha256:
        return engine.weights.sha256
    with _ids_lock:
        if engine not in _ids:
            _ids[engine] = state_dict_sha256(engine.reference.state_dict())
        return _ids[engine]


def entry_digest(weights: str, target: Target, settings: FeatureSettings) -> str:
    text = json.dumps({"version": CACHE_VERSION, "weights": weights, "target": target.key,
                       "settings": settings.as_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _target_from_key(key: str) -> Target:
    parts = key.split(".")
    if parts[0] == "class":
        return ClassTarget(int(parts[1]))
    return Unit(parts[0], parts[1], int(parts[2]))


class FeatureCache:
    """Visualizations on disk under ``root`` (created on first write)."""

    def __init__(self, root: os.PathLike | str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root).expanduser()
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def path(self, weights: str, target: Target, settings: FeatureSettings) -> Path:
        return self.root / target.key / entry_digest(weights, target, settings)

    def get(self, weights: str, target: Target, settings: FeatureSettings) -> Optional[Visualization]:
        """The stored visualization, or None. A damaged entry is logged and treated as missing."""
        folder = self.path(weights, target, settings)
        meta_path = folder / "meta.json"
        if not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            images = []
            for i in range(int(meta["images"])):
                with Image.open(folder / f"{i}.png") as image:
                    images.append(np.asarray(image.convert("RGB")).copy())
            visualization = Visualization(
                target=_target_from_key(meta["target"]), settings=FeatureSettings(**meta["settings"]),
                images=tuple(images), objective=tuple(meta["objective_per_step"]),
                start_activation=tuple(meta["activation_start"]), final_activation=tuple(meta["activation_final"]),
                seconds=float(meta["seconds"]), device=str(meta["device"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring the damaged feature cache entry %s: %s", folder, exc)
            return None
        try:
            os.utime(meta_path)  # least recently used goes first
        except OSError:
            pass  # a read-only folder (copied to a classroom machine) still serves
        return visualization

    def put(self, weights: str, visualization: Visualization) -> Optional[Path]:
        """Store ``visualization``; None (and a warning) when the folder cannot be written."""
        folder = self.path(weights, visualization.target, visualization.settings)
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
            for i, image in enumerate(visualization.images):
                Image.fromarray(image).save(work / f"{i}.png", optimize=False)
            meta = {**visualization.to_json(), "images": len(visualization.images), "weights": weights}
            (work / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            try:
                os.rename(work, folder)
            except OSError:  # already there (another request wrote the same entry): keep that one
                shutil.rmtree(work, ignore_errors=True)
        except OSError as exc:
            log.warning("could not write the feature cache %s: %s", folder, exc)
            return None
        self.trim()
        return folder

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last use, bytes, folder) of every entry."""
        found = []
        if not self.root.is_dir():
            return found
        for meta in self.root.glob("*/*/meta.json"):
            folder = meta.parent
            try:
                size = sum(f.stat().st_size for f in folder.iterdir())
                found.append((meta.stat().st_mtime, size, folder))
            except OSError:
                continue
        return found

    def trim(self) -> int:
        """Delete the least recently used entries until the cache fits ``max_bytes``; how many were deleted."""
        with self._lock:
            entries = sorted(self.entries())
            total = sum(size for _, size, _ in entries)
            deleted = 0
            for _, size, folder in entries:
                if total <= self.max_bytes:
                    break
                shutil.rmtree(folder, ignore_errors=True)
                total -= size
                deleted += 1
            if deleted:
                log.info("feature cache: deleted %d old entries (now %.1f MB)", deleted, total / 1e6)
            return deleted

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.root)!r}, max_bytes={self.max_bytes})"


