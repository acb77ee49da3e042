"""Building an index: it equals a brute-force top-k computed independently, resumes to the same file, and shards
merge into the file of the whole folder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from googlenet.images import open_image
from googlenet.photo_index import (IndexSettings, PhotoIndexError, checkpoint_path, index_folder, list_photos,
                                   load_index, merge_indexes, save_index)
from googlenet.transforms import preprocess

from support.photo_index import torchvision_branches

K = 4  # of 10 readable photos: the choice of photos is tested, not only their order


def brute_force_maps(photo_folder, torchvision_model) -> dict[str, dict[str, np.ndarray]]:
    """Every readable photo's branch outputs from torchvision's own model and the app's preprocessing:
    photo name -> branch key -> C x (H * W)."""
    maps = {}
    for name in list_photos(photo_folder):
        try:
            x = preprocess(open_image(photo_folder / name))[1]  # 1 x 3 x 224 x 224
        except ValueError:
            continue
        maps[name] = {key: out[0].reshape(out.shape[1], -1) for key, out in
                      torchvision_branches(torchvision_model, x).items()}
    return maps


@pytest.fixture(scope="module")
def whole(tmp_path_factory, app_model, photo_folder, weights_info):
    out = tmp_path_factory.mktemp("whole") / "index.npz"
    result = index_folder(app_model, photo_folder, out, weights_sha256=weights_info.sha256,
                          settings=IndexSettings(k=K, batch_size=3, checkpoint_every=3), progress=False)
    return out, result


def test_index_equals_a_brute_force_top_k(whole, photo_folder, torchvision_model):
    out, result = whole
    assert (result.indexed, result.skipped) == (10, 1)
    index = load_index(out)
    assert index.photos[index.skipped[0]] == "broken.jpg"
    maps = brute_force_maps(photo_folder, torchvision_model)
    near_ties = 0
    for slot in index.branches:
        for c in range(slot.channels):
            row = slot.offset + c
            # each photo's maximum of this channel, best first (ties by name, as photos are numbered)
            best = sorted(((float(m[slot.key][c].max()), name) for name, m in maps.items()), key=lambda r: (-r[0], r[1]))
            np.testing.assert_allclose(index.top.values[row], [v for v, _ in best[:K]], rtol=1e-3, atol=1e-3)
            got = [index.photos[p] for p in index.top.photos[row]]
            if got != [name for _, name in best[:K]]:
                # BatchNorm folding moves values by ~1e-5: only photos within a hair of each other may swap
                values = [v for v, _ in best[:K + 1]]
                assert min(np.diff(values[::-1])) < 1e-3, (slot.key, c, got, best[:K + 1])
                near_ties += 1
            for photo, flat, value in zip(got, index.top.positions[row], index.top.values[row]):
                # where the maximum is: the brute-force map has (within a hair) its maximum there too
                assert maps[photo][slot.key][c][flat] >= value - 1e-3, (slot.key, c, photo)
    units = sum(s.channels for s in index.branches)
    assert units == 5488 and index.top.values.shape == (units, K)
    assert near_ties < units * 0.01  # rare; a wrong index would differ nearly everywhere


def test_a_bright_patch_puts_the_top_crop_at_the_patch(tmp_path, app_model, torchvision_model, weights_info,
                                                        photo_folder):
    """A unit chosen (by brute force, on a probe with the patch elsewhere) for responding to a bright patch finds
    the patch in a new photo, at a new place: the index's best crop for it is that photo, cut around the patch."""
    from PIL import Image

    from googlenet.branch_facts import receptive_fields
    from googlenet.photo_index import index_examples, unit_geometry
    from googlenet.units import locate

    def patch_photo(top: int, left: int) -> Image.Image:
        """Black, one white 20 x 20 patch at (top, left) of the network's input: 256 x 256, so that the
        preprocessing (short side to 256, central 224 x 224) only cuts 16 pixels off each side."""
        pixels = np.zeros((256, 256, 3), dtype=np.uint8)
        pixels[16 + top:16 + top + 20, 16 + left:16 + left + 20] = 255
        return Image.fromarray(pixels)

    fields = receptive_fields(app_model)
    probe = torchvision_branches(torchvision_model, preprocess(patch_photo(48, 48))[1])
    others = [torchvision_branches(torchvision_model, preprocess(open_image(photo_folder / n))[1])
              for n in list_photos(photo_folder) if n != "broken.jpg"]
    centre = 48 + 10
    candidates = []  # (how much more the probe excites it than any photo, branch, channel)
    for branch in [k for k in probe if k.split(".")[0] in ("inception3a", "inception3b", "inception4a")]:
        field, maps = fields[branch], probe[branch][0]  # C x H x W
        other_max = np.max([o[branch][0].max(axis=(1, 2)) for o in others], axis=0)  # C
        for c in range(maps.shape[0]):
            y, x = np.unravel_index(np.argmax(maps[c]), maps[c].shape)
            if max(abs(field.centre(int(y)) - centre), abs(field.centre(int(x)) - centre)) <= field.jump:
                candidates.append((float(maps[c].max() / max(other_max[c], 1e-6)), branch, c, (int(y), int(x))))
    strength, branch, channel, probe_yx = max(candidates)
    assert strength > 1.5, "no unit prefers the patch to every photo: change the probe"
    field = fields[branch]
    module, branch_name = branch.split(".")

    folder = tmp_path / "photos"
    folder.mkdir()
    for name in list_photos(photo_folder):
        (folder / name.replace("/", "-")).write_bytes((photo_folder / name).read_bytes())
    patch_photo(144, 128).save(folder / "patch.png")  # the patch somewhere else: the unit must find it there
    out = tmp_path / "index.npz"
    index_folder(app_model, folder, out, weights_sha256=weights_info.sha256, progress=False)
    index = load_index(out)
    location = locate(app_model, module, branch_name, channel)
    slot = index.slot(branch)
    examples = index_examples(index, location, unit_geometry(app_model, branch, slot.grid), index_path=out)
    best = examples[0]
    assert best.photo == "patch.png"
    # the patch moved by (96, 80) pixels, whole steps of the grid: the unit's best position moved with it ...
    assert 96 % field.jump == 80 % field.jump == 0
    assert best.position == (probe_yx[0] + 96 // field.jump, probe_yx[1] + 80 // field.jump)
    # ... and its crop (the receptive field there, whose centre test_branch_facts checks by gradients) holds it all
    assert best.box.left <= 128 and 148 <= best.box.right and best.box.top <= 144 and 164 <= best.box.bottom
    assert best.box.size == (min(field.size, 224), min(field.size, 224))  # a whole receptive field (inside)
    assert best.image is not None and best.image.size == best.box.size
    assert [e.value for e in examples] == sorted((e.value for e in examples), reverse=True)


class Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_to_the_same_file(tmp_path, whole, app_model, photo_folder, weights_info):
    out = tmp_path / "index.npz"
    settings = IndexSettings(k=K, batch_size=3, checkpoint_every=3)
    seen = []

    def stop(partial):
        seen.append(partial.done_batches)
        raise Interrupted

    with pytest.raises(Interrupted):
        index_folder(app_model, photo_folder, out, weights_sha256=weights_info.sha256, settings=settings,
                     progress=False, on_checkpoint=stop)
    assert seen == [1] and checkpoint_path(out).is_file() and not out.exists()
    with pytest.raises(PhotoIndexError) as caught:  # a checkpoint is not an index the app would read
        load_index(checkpoint_path(out))
    assert caught.value.key == "errors.index_incomplete"
    result = index_folder(app_model, photo_folder, out, weights_sha256=weights_info.sha256, settings=settings,
                          progress=False)
    assert result.resumed_batches == 1
    assert out.read_bytes() == whole[0].read_bytes()
    assert not checkpoint_path(out).exists()


def test_shards_merge_into_the_whole_folders_file(tmp_path, whole, app_model, photo_folder, weights_info):
    shards = []
    for i in range(2):
        path = tmp_path / f"shard{i}.npz"
        index_folder(app_model, photo_folder, path, weights_sha256=weights_info.sha256, progress=False,
                     settings=IndexSettings(k=K, batch_size=3, shard=(i, 2)))
        shards.append(load_index(path))
    assert sorted(shards[0].photos + shards[1].photos) == list(load_index(whole[0]).photos)
    merged = tmp_path / "merged.npz"
    save_index(merge_indexes(shards[::-1]), merged)  # the order of the shards does not matter
    assert merged.read_bytes() == whole[0].read_bytes()


def test_indexes_of_two_folders_merge_into_their_union(tmp_path, app_model, photo_folder, weights_info, whole):
    """Halves indexed as separate folders (no shared batches): the same photos and values as the whole."""
    names = [n for n in list_photos(photo_folder)]
    halves = []
    for i, part in enumerate((names[:5], names[5:])):
        folder = tmp_path / f"half{i}"
        for name in part:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes((photo_folder / name).read_bytes())
        out = tmp_path / f"half{i}.npz"
        index_folder(app_model, folder, out, weights_sha256=weights_info.sha256, progress=False,
                     settings=IndexSettings(k=K, batch_size=3))
        halves.append(load_index(out))
    merged, full = merge_indexes(halves), load_index(whole[0])
    assert merged.photos == full.photos and merged.skipped == full.skipped and merged.root is None
    np.testing.assert_allclose(merged.top.values, full.top.values, rtol=1e-4, atol=1e-4)
    assert (merged.top.photos == full.top.photos).mean() > 0.99


def test_memory_does_not_grow_with_the_photos(whole):
    """The state is k entries per channel, whatever the number of photos."""
    index = load_index(whole[0])
    assert index.top.values.nbytes + index.top.photos.nbytes + index.top.positions.nbytes == 5488 * K * 12


def test_shard_settings_are_checked():
    with pytest.raises(PhotoIndexError) as caught:
        IndexSettings(shard=(2, 2))
    assert caught.value.key == "errors.index_bad_shard"
    with pytest.raises(PhotoIndexError):
        IndexSettings(k=0)


def test_no_photos_is_a_keyed_error(tmp_path, app_model, weights_info):
    with pytest.raises(PhotoIndexError) as caught:
        index_folder(app_model, tmp_path, tmp_path / "i.npz", weights_sha256=weights_info.sha256, progress=False)
    assert caught.value.key == "errors.index_no_photos"
    with pytest.raises(PhotoIndexError) as caught:
        index_folder(app_model, tmp_path / "nowhere", tmp_path / "i.npz", weights_sha256=weights_info.sha256)
    assert caught.value.key == "errors.index_folder_missing"


def test_topk_merging_is_a_total_order():
    from googlenet.photo_index import TopK

    rng = np.random.default_rng(0)
    values = rng.integers(0, 3, size=(5, 12)).astype(np.float32)  # many ties
    positions = rng.integers(0, 9, size=(5, 12))
    whole_top = TopK.empty(12, 3).with_batch(values, positions, range(5))
    split = TopK.empty(12, 3).with_batch(values[3:], positions[3:], range(3, 5)).union(
        TopK.empty(12, 3).with_batch(values[:3], positions[:3], range(3)))
    for name in ("values", "photos", "positions"):
        np.testing.assert_array_equal(getattr(whole_top, name), getattr(split, name))
    order = np.lexsort((np.arange(5)[:, None].repeat(12, 1).T, -values.T), axis=1)[:, :3]
    np.testing.assert_array_equal(whole_top.photos, order)
    assert torch.equal(torch.from_numpy(whole_top.values), torch.from_numpy(np.take_along_axis(values.T, order, 1)))
