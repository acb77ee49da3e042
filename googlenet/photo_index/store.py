"""The photo index file: what it holds, how it is written and read back (with checks), and how shards merge.

The format (version 1) is one ``.npz`` file (a zip of ``.npy`` arrays, readable with ``numpy.load``; no pickles):

- ``values`` (U x k float32), ``photos`` (U x k int32), ``positions`` (U x k int32): for each of the U branch
  channels, in network order (inception3a.branch1 channel 0 first, inception5b.branch4's last channel last), its k
  best photos: the channel's maximum over positions on that photo, the photo's number in ``manifest.photos``, and
  where the maximum is (``y * W + x`` on the branch's output grid). Highest value first, ties by photo number;
  empty slots (fewer photos than k) are ``-inf`` / ``-1``.
- ``manifest``: UTF-8 JSON, as uint8 bytes: ``format`` ("googlenet-photo-index"), ``version``, ``weights_sha256``
  (an index belongs to one set of weights), ``preprocessing`` (read from the weights' metadata), ``k``,
  ``batch_size`` (fixed, so resumed and sharded runs compute every photo in the same batch), ``branches`` (for each
  branch in network order: its key, channels, offset into U and output grid), ``root`` (the indexed folder, or
  null), ``photos`` (paths relative to it, sorted), ``skipped`` (numbers of unreadable photos), ``shard`` ([i, n] or
  null) and ``complete`` (false in a checkpoint, with ``done_batches``).

Files are written deterministically (fixed zip timestamps, sorted JSON keys, no creation time): the same photos and
weights give the same bytes, whether the run was interrupted, sharded and merged, or done in one go.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from ..messages import KeyedError
from ..model import BRANCHES, INCEPTION_MODULES
from ..transforms import PREPROCESS, Preprocess
from .topk import TopK

__all__ = ["FORMAT", "VERSION", "DEFAULT_K", "PhotoIndexError", "BranchSlot", "PhotoIndex", "load_index",
           "save_index", "merge_indexes", "preprocessing_json"]

log = logging.getLogger(__name__)

FORMAT = "googlenet-photo-index"
VERSION = 1
DEFAULT_K = 9
_ARRAYS = ("values", "photos", "positions")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same index is the same bytes


class PhotoIndexError(KeyedError, ValueError):
    """A photo index that is missing, unreadable, for other weights, or that cannot be built or merged as asked."""


@dataclass(frozen=True)
class BranchSlot:
    """Where one branch's channels sit in the index's rows, and its output grid (positions are on it)."""

    key: str  # "inception4a.branch2"
    channels: int
    offset: int  # first row of this branch in the U rows
    grid: tuple[int, int]  # H, W of the branch's output for the index's input size

    def to_json(self) -> dict:
        return {"key": self.key, "channels": self.channels, "offset": self.offset, "grid": list(self.grid)}


def preprocessing_json(spec: Preprocess = PREPROCESS) -> dict:
    """The preprocessing as the manifest records it (an index is only valid for the same)."""
    return {"resize": spec.resize_size, "crop": spec.crop_size, "mean": list(spec.mean), "std": list(spec.std),
            "interpolation": str(spec.interpolation.value), "antialias": spec.antialias}


@dataclass(frozen=True)
class PhotoIndex:
    """A loaded (or in-memory) index: the top-k arrays and what they mean."""

    top: TopK
    weights_sha256: str
    branches: tuple[BranchSlot, ...]
    photos: tuple[str, ...]
    root: Optional[str]
    batch_size: int
    preprocessing: Mapping[str, Any] = field(default_factory=preprocessing_json)
    skipped: tuple[int, ...] = ()
    shard: Optional[tuple[int, int]] = None
    complete: bool = True
    done_batches: int = 0  # only in a checkpoint (complete False)

    @property
    def k(self) -> int:
        return self.top.k

    def slot(self, branch_key: str) -> BranchSlot:
        for slot in self.branches:
            if slot.key == branch_key:
                return slot
        raise PhotoIndexError("errors.index_unknown_branch", branch=branch_key)

    def manifest(self) -> dict:
        manifest = {
            "format": FORMAT, "version": VERSION, "weights_sha256": self.weights_sha256,
            "preprocessing": dict(self.preprocessing), "k": self.k, "batch_size": self.batch_size,
            "statistic": "per photo: the channel's maximum over positions, and where",
            "branches": [b.to_json() for b in self.branches], "root": self.root, "photos": list(self.photos),
            "skipped": list(self.skipped), "shard": list(self.shard) if self.shard else None,
            "complete": self.complete,
        }
        if not self.complete:
            manifest["done_batches"] = self.done_batches
        return manifest

    def check_weights(self, sha256: Optional[str], path: Path | str = "") -> None:
        """Refuse an index made with other weights (its values and photos mean nothing for these)."""
        if sha256 is None or sha256 != self.weights_sha256:
            raise PhotoIndexError("errors.index_other_weights", path=path, index_sha=self.weights_sha256[:8],
                                  weights_sha=(sha256 or "untrained")[:8])

    def photo_path(self, number: int, index_path: Optional[Path] = None) -> Path:
        """Where photo ``number`` is: under the recorded root, else next to the index file (a copied folder)."""
        name = self.photos[number]
        if self.root is not None and (Path(self.root) / name).is_file():
            return Path(self.root) / name
        if index_path is not None:
            return Path(index_path).expanduser().resolve().parent / name
        return Path(self.root or ".") / name


def _write_member(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    archive.writestr(info, buffer.getvalue())


def save_index(index: PhotoIndex, path: Path | str) -> Path:
    """Write ``index`` to ``path`` atomically (a temporary file, then a rename: a crash never leaves half a file)."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = json.dumps(index.manifest(), sort_keys=True, ensure_ascii=False).encode("utf-8")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for name in _ARRAYS:
                _write_member(archive, name, getattr(index.top, name))
            _write_member(archive, "manifest", np.frombuffer(manifest, dtype=np.uint8))
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


def _corrupt(path: Path, reason: object) -> PhotoIndexError:
    return PhotoIndexError("errors.index_corrupt", path=path, reason=reason)


def _parse(manifest: Mapping[str, Any], arrays: Mapping[str, np.ndarray], path: Path) -> PhotoIndex:
    if manifest.get("format") != FORMAT:
        raise _corrupt(path, f"format {manifest.get('format')!r} is not {FORMAT!r}")
    if manifest.get("version") != VERSION:
        raise PhotoIndexError("errors.index_version", path=path, version=manifest.get("version"), supported=VERSION)
    try:
        branches = tuple(BranchSlot(b["key"], int(b["channels"]), int(b["offset"]), (int(b["grid"][0]),
                                                                                     int(b["grid"][1])))
                         for b in manifest["branches"])
        k = int(manifest["k"])
        units = sum(b.channels for b in branches)
        photos = tuple(str(p) for p in manifest["photos"])
        top = TopK(arrays["values"], arrays["photos"], arrays["positions"])
        shard = manifest.get("shard")
        index = PhotoIndex(top=top, weights_sha256=str(manifest["weights_sha256"]), branches=branches,
                           photos=photos, root=manifest.get("root"), batch_size=int(manifest["batch_size"]),
                           preprocessing=manifest["preprocessing"],
                           skipped=tuple(int(i) for i in manifest.get("skipped", ())),
                           shard=(int(shard[0]), int(shard[1])) if shard else None,
                           complete=bool(manifest["complete"]), done_batches=int(manifest.get("done_batches", 0)))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise _corrupt(path, f"manifest: {exc!r}") from exc
    expected_keys = [f"{m}.{b}" for m in INCEPTION_MODULES for b in BRANCHES]
    if [b.key for b in branches] != expected_keys:
        raise _corrupt(path, "the branches are not the 36 of GoogLeNet in network order")
    for name, dtype in zip(_ARRAYS, (np.float32, np.int32, np.int32)):
        array = getattr(top, name)
        if array.shape != (units, k) or array.dtype != dtype:
            raise _corrupt(path, f"{name}: {array.dtype} {array.shape}, expected {np.dtype(dtype)} {(units, k)}")
    if top.photos.size and (top.photos.max() >= len(photos) or top.photos.min() < -1):
        raise _corrupt(path, "photo numbers out of range")
    return index


def load_index(path: Path | str, *, weights_sha256: Optional[str] = None, allow_incomplete: bool = False
               ) -> PhotoIndex:
    """Read an index file, checking its format, its arrays, and (when given) that it was made for these weights."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise PhotoIndexError("errors.index_missing", path=path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in _ARRAYS}
            manifest = json.loads(data["manifest"].tobytes().decode("utf-8"))
    except PhotoIndexError:
        raise
    except Exception as exc:  # noqa: BLE001 - not a zip, a missing member, bad JSON: all one "corrupt" message
        raise _corrupt(path, exc) from exc
    if not isinstance(manifest, dict):
        raise _corrupt(path, "the manifest is not a JSON object")
    index = _parse(manifest, arrays, path)
    if not index.complete and not allow_incomplete:
        raise PhotoIndexError("errors.index_incomplete", path=path)
    if weights_sha256 is not None:
        index.check_weights(weights_sha256, path)
    return index


def merge_indexes(indexes: Sequence[PhotoIndex], names: Sequence[str] = ()) -> PhotoIndex:
    """One index from shards: the union of their photos (sorted, renumbered) and, per channel, the top-k of their
    top-ks. Exact: every entry of the whole's top-k is in the top-k of the shard that holds its photo. Shards of
    one folder (``--shard i/n``) merge into the very file one run over the folder writes."""
    if not indexes:
        raise ValueError("nothing to merge")
    names = list(names) or [str(i) for i in range(len(indexes))]
    first = indexes[0]
    for index, name in zip(indexes, names):
        if not index.complete:
            raise PhotoIndexError("errors.index_incomplete", path=name)
        same = (index.weights_sha256, index.k, index.branches, index.batch_size, dict(index.preprocessing))
        if same != (first.weights_sha256, first.k, first.branches, first.batch_size, dict(first.preprocessing)):
            raise PhotoIndexError("errors.index_merge_mismatch", first=names[0], other=name)
    roots = {index.root for index in indexes}
    everything = [photo for index in indexes for photo in index.photos]
    if len(set(everything)) != len(everything):
        duplicate = next(p for p in everything if everything.count(p) > 1)
        raise PhotoIndexError("errors.index_merge_overlap", photo=duplicate)
    photos = tuple(sorted(everything))
    number = {photo: i for i, photo in enumerate(photos)}
    top = TopK.empty(first.top.units, first.k)
    skipped: list[int] = []
    for index in indexes:
        mapping = np.array([number[p] for p in index.photos], dtype=np.int32)
        top = top.union(index.top.renumbered(mapping))
        skipped += [int(mapping[i]) for i in index.skipped]
    return replace(first, top=top, photos=photos, root=roots.pop() if len(roots) == 1 else None,
                   skipped=tuple(sorted(skipped)), shard=None, complete=True, done_batches=0)
