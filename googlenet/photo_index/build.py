"""Building a photo index: every photo of a folder through the network once, every branch channel's top-k kept.

The folder is streamed: the sorted list of file names is all that is held for the whole run (photos are decoded a
batch at a time, the next batch on worker threads while the network runs the current one), and the top-k arrays
have a fixed size (:mod:`.topk`), so memory does not grow with the number of photos.

Determinism, which resuming and sharding rely on: photos are numbered by their position in the sorted list and cut
into batches of a fixed size (``batch_size``, recorded in the index); batch ``b`` always holds photos
``b * batch_size .. (b + 1) * batch_size - 1`` (less the unreadable ones), so every photo is computed in the same
batch whether the run was interrupted and resumed, or split into shards (shard ``i`` of ``n`` takes the batches
``b`` with ``b % n == i``). A checkpoint (the index file format with ``complete: false``) is written atomically every
``checkpoint_every`` photos; a resumed run continues after its last batch and writes the same file as a run that
was never interrupted.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor

from ..activations import capture_tensors
from ..distill import IMAGE_SUFFIXES
from ..images import DEFAULT_LIMITS, ImageInputError, ImageLimits, open_image
from ..model import BRANCHES, INCEPTION_MODULES, GoogLeNet
from ..transforms import PREPROCESS, Preprocess, preprocess
from .store import DEFAULT_K, BranchSlot, PhotoIndex, PhotoIndexError, load_index, preprocessing_json, save_index
from .topk import TopK, photo_maxima

__all__ = ["IndexSettings", "BuildResult", "list_photos", "index_layout", "index_photos", "index_folder",
           "checkpoint_path"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexSettings:
    """How an index is built. ``k`` and ``batch_size`` are recorded in the file (shards must agree on them)."""

    k: int = DEFAULT_K
    batch_size: int = 16
    checkpoint_every: int = 512  # photos between checkpoints (rounded up to whole batches)
    workers: int = 2  # threads decoding the next batch while the network runs
    shard: Optional[tuple[int, int]] = None  # (i, n): this process indexes shard i of n

    def __post_init__(self) -> None:
        if self.k < 1 or self.batch_size < 1 or self.checkpoint_every < 1 or self.workers < 1:
            raise PhotoIndexError("errors.index_bad_settings", k=self.k, batch_size=self.batch_size)
        if self.shard is not None and not (self.shard[1] >= 1 and 0 <= self.shard[0] < self.shard[1]):
            raise PhotoIndexError("errors.index_bad_shard", shard=f"{self.shard[0]}/{self.shard[1]}")


@dataclass(frozen=True)
class BuildResult:
    index: PhotoIndex
    indexed: int  # photos that went through the network (in this run and any it resumed)
    skipped: int  # unreadable photos (logged one by one, listed in the index)
    resumed_batches: int  # batches a checkpoint had already done (0: a fresh run)


def list_photos(folder: Path | str) -> list[str]:
    """The image files under ``folder`` (recursively) as sorted POSIX paths relative to it."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise PhotoIndexError("errors.index_folder_missing", path=root)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def index_layout(model: GoogLeNet, input_size: int = PREPROCESS.crop_size) -> tuple[BranchSlot, ...]:
    """The 36 branches in network order, with their channel counts, row offsets and output grids (one forward
    pass of a blank image reads the grids from the model itself)."""
    device = next(model.parameters()).device
    tensors, _ = capture_tensors(model, torch.zeros(1, 3, input_size, input_size, device=device))
    slots, offset = [], 0
    for module in INCEPTION_MODULES:
        for branch, part in zip(BRANCHES, tensors.branches[module]):  # each 1 x C x H x W
            slots.append(BranchSlot(f"{module}.{branch}", int(part.shape[1]), offset,
                                    (int(part.shape[2]), int(part.shape[3]))))
            offset += int(part.shape[1])
    return tuple(slots)


def checkpoint_path(out: Path | str) -> Path:
    """Where the checkpoint of an index being written to ``out`` lives (removed when the index is complete)."""
    out = Path(out).expanduser()
    return out.with_name(out.name + ".partial")


def _load(path: Path, limits: ImageLimits, spec: Preprocess) -> Tensor | Exception:
    try:
        return preprocess(open_image(path, limits), spec)[1]  # 1 x 3 x 224 x 224
    except (ImageInputError, OSError) as exc:
        return exc


def _progress(total: int, initial: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        log.info("tqdm is not installed: no progress bar")
        return None
    return tqdm(total=total, initial=initial, unit="photo", desc="index-photos")


def _resume(checkpoint: Optional[Path], fresh: PhotoIndex) -> PhotoIndex:
    """The checkpoint's state if it belongs to this very run (same photos, weights and settings), else ``fresh``."""
    if checkpoint is None or not checkpoint.is_file():
        return fresh
    try:
        saved = load_index(checkpoint, allow_incomplete=True)
    except PhotoIndexError as exc:
        log.warning("ignoring the checkpoint %s: %s", checkpoint, exc)
        return fresh
    comparable = ("weights_sha256", "branches", "photos", "root", "batch_size", "shard")
    if saved.complete or saved.k != fresh.k or any(getattr(saved, a) != getattr(fresh, a) for a in comparable) \
            or dict(saved.preprocessing) != dict(fresh.preprocessing):
        log.warning("the checkpoint %s is for other photos or settings: starting over", checkpoint)
        return fresh
    log.info("resuming from %s: %d batch(es) already done", checkpoint, saved.done_batches)
    return saved


def index_photos(model: GoogLeNet, paths: Sequence[Path], names: Sequence[str], *, weights_sha256: str,
                 root: Optional[str] = None, settings: IndexSettings = IndexSettings(),
                 checkpoint: Optional[Path] = None, progress: bool = False, limits: ImageLimits = DEFAULT_LIMITS,
                 spec: Preprocess = PREPROCESS, on_checkpoint: Optional[Callable[[PhotoIndex], None]] = None
                 ) -> BuildResult:
    """Index ``paths`` (named ``names`` in the index, in this order: pass them sorted) with ``model`` (eval mode,
    read-only: the forward walks the layers without hooks). See the module docstring for batches and resuming."""
    if len(paths) != len(names):
        raise ValueError("one name per path")
    batch = settings.batch_size
    all_batches = range(math.ceil(len(paths) / batch))
    shard = settings.shard
    mine = [b for b in all_batches if shard is None or b % shard[1] == shard[0]]
    chosen = [i for b in mine for i in range(b * batch, min(len(paths), (b + 1) * batch))]
    if not chosen:
        raise PhotoIndexError("errors.index_no_photos")
    layout = index_layout(model)
    fresh = PhotoIndex(top=TopK.empty(sum(s.channels for s in layout), settings.k), weights_sha256=weights_sha256,
                       branches=layout, photos=tuple(names[i] for i in chosen), root=root, batch_size=batch,
                       preprocessing=preprocessing_json(spec), shard=shard if shard and shard[1] > 1 else None,
                       complete=False, done_batches=0)
    state = _resume(checkpoint, fresh)
    top, skipped, start = state.top, list(state.skipped), state.done_batches
    every = max(1, math.ceil(settings.checkpoint_every / batch))
    # Local photo numbers of each of this run's batches (numbers index ``fresh.photos``).
    batches = [list(range(j * batch, min(len(chosen), (j + 1) * batch))) for j in range(len(mine))]
    device = next(model.parameters()).device
    bar = _progress(len(chosen), sum(len(b) for b in batches[:start]), progress)

    def submit(pool: ThreadPoolExecutor, j: int) -> list[Future]:
        return [pool.submit(_load, paths[chosen[n]], limits, spec) for n in batches[j]]

    with ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="index-decode") as pool:
        pending = submit(pool, start) if start < len(batches) else []
        for j in range(start, len(batches)):
            loaded = [f.result() for f in pending]
            pending = submit(pool, j + 1) if j + 1 < len(batches) else []  # decode ahead while the network runs
            tensors, numbers = [], []
            for n, item in zip(batches[j], loaded):
                if isinstance(item, Exception):
                    log.warning("skipping %s: %s", fresh.photos[n], item)
                    skipped.append(n)
                else:
                    tensors.append(item)
                    numbers.append(n)
            if tensors:
                x = torch.cat(tensors).to(device).contiguous(memory_format=torch.channels_last)  # B x 3 x 224 x 224
                captured, _ = capture_tensors(model, x)
                parts = [part for module in INCEPTION_MODULES for part in captured.branches[module]]
                values, positions = photo_maxima(parts)  # B x U each
                top = top.with_batch(values, positions, numbers)
            if bar is not None:
                bar.update(len(batches[j]))
            done = j + 1
            if checkpoint is not None and done % every == 0 and done < len(batches):
                saved = replace(fresh, top=top, skipped=tuple(skipped), done_batches=done)
                save_index(saved, checkpoint)
                if on_checkpoint is not None:
                    on_checkpoint(saved)
    if bar is not None:
        bar.close()
    index = replace(fresh, top=top, skipped=tuple(skipped), complete=True, done_batches=0)
    return BuildResult(index, len(chosen) - len(skipped), len(skipped), start)


def index_folder(model: GoogLeNet, folder: Path | str, out: Path | str, *, weights_sha256: str,
                 settings: IndexSettings = IndexSettings(), resume: bool = True, progress: bool = True,
                 limits: ImageLimits = DEFAULT_LIMITS, spec: Preprocess = PREPROCESS,
                 on_checkpoint: Optional[Callable[[PhotoIndex], None]] = None) -> BuildResult:
    """``python -m googlenet index-photos FOLDER --out OUT``: index every photo under ``folder`` into ``out``,
    checkpointing next to it (``OUT.partial``) and continuing from there when ``resume`` is on."""
    root = Path(folder).expanduser().resolve()
    names = list_photos(root)
    if not names:
        raise PhotoIndexError("errors.index_no_photos")
    checkpoint = checkpoint_path(out)
    if not resume and checkpoint.exists():
        checkpoint.unlink()
    result = index_photos(model, [root / n for n in names], names, weights_sha256=weights_sha256, root=str(root),
                          settings=settings, checkpoint=checkpoint, progress=progress, limits=limits, spec=spec,
                          on_checkpoint=on_checkpoint)
    save_index(result.index, out)
    if checkpoint.exists():
        checkpoint.unlink()
    return result
