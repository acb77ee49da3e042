"""The index file: written deterministically, read back with checks, refused with keyed errors when unusable."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from googlenet.photo_index import (VERSION, IndexSettings, PhotoIndexError, index_photos, load_index, merge_indexes,
                                   save_index)

from support import EXAMPLE_PHOTOS


@pytest.fixture(scope="module")
def small(app_model, weights_info):
    """An in-memory index of two example photos (k = 2)."""
    paths = EXAMPLE_PHOTOS[:2]
    return index_photos(app_model, paths, [p.name for p in paths], weights_sha256=weights_info.sha256,
                        settings=IndexSettings(k=2, batch_size=2)).index


def test_round_trip_and_same_bytes(tmp_path, small, weights_info):
    a, b = save_index(small, tmp_path / "a.npz"), save_index(small, tmp_path / "b.npz")
    assert a.read_bytes() == b.read_bytes()  # no timestamps: the same index is the same file
    loaded = load_index(a, weights_sha256=weights_info.sha256)
    for name in ("values", "photos", "positions"):
        np.testing.assert_array_equal(getattr(loaded.top, name), getattr(small.top, name))
    assert loaded.photos == small.photos and loaded.branches == small.branches
    with np.load(a, allow_pickle=False) as data:  # plain numpy arrays and a JSON manifest: no pickles
        manifest = json.loads(data["manifest"].tobytes())
    assert manifest["format"] == "googlenet-photo-index" and manifest["version"] == VERSION
    assert manifest["weights_sha256"] == weights_info.sha256 and manifest["preprocessing"]["crop"] == 224
    assert len(manifest["branches"]) == 36 and manifest["branches"][0]["grid"] == [28, 28]


def _key(excinfo) -> str:
    return excinfo.value.key


def test_missing_corrupt_and_other_weights_are_keyed_errors(tmp_path, small, weights_info):
    with pytest.raises(PhotoIndexError) as caught:
        load_index(tmp_path / "nothing.npz")
    assert _key(caught) == "errors.index_missing" and "index-photos" in str(caught.value)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(PhotoIndexError) as caught:
        load_index(garbage)
    assert _key(caught) == "errors.index_corrupt"
    path = save_index(small, tmp_path / "index.npz")
    with pytest.raises(PhotoIndexError) as caught:
        load_index(path, weights_sha256="0" * 64)
    assert _key(caught) == "errors.index_other_weights"
    assert caught.value.params["index_sha"] == weights_info.sha256[:8]


def _rewrite(path, out, **members):
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            name = item.filename.removesuffix(".npy")
            if name in members:
                import io
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, members[name])
                target.writestr(item.filename, buffer.getvalue())
            else:
                target.writestr(item, source.read(item))
    return out


def test_tampered_arrays_and_manifests_are_refused(tmp_path, small):
    path = save_index(small, tmp_path / "index.npz")
    cut = _rewrite(path, tmp_path / "cut.npz", values=small.top.values[:10])
    with pytest.raises(PhotoIndexError) as caught:
        load_index(cut)
    assert _key(caught) == "errors.index_corrupt"
    manifest = small.manifest() | {"version": 99}
    newer = _rewrite(path, tmp_path / "newer.npz",
                     manifest=np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8))
    with pytest.raises(PhotoIndexError) as caught:
        load_index(newer)
    assert _key(caught) == "errors.index_version"
    bad_numbers = _rewrite(path, tmp_path / "numbers.npz", photos=np.full_like(small.top.photos, 7))
    with pytest.raises(PhotoIndexError) as caught:
        load_index(bad_numbers)
    assert _key(caught) == "errors.index_corrupt"


def test_merging_refuses_overlaps_and_other_weights(small):
    with pytest.raises(PhotoIndexError) as caught:
        merge_indexes([small, small])
    assert _key(caught) == "errors.index_merge_overlap"
    other = replace(small, weights_sha256="f" * 64, photos=("x.png", "y.png"))
    with pytest.raises(PhotoIndexError) as caught:
        merge_indexes([small, other], ["a.npz", "b.npz"])
    assert _key(caught) == "errors.index_merge_mismatch" and caught.value.params["other"] == "b.npz"


def test_errors_are_translated(tmp_path):
    with pytest.raises(PhotoIndexError) as caught:
        load_index(tmp_path / "nothing.npz")
    assert "사진 색인" in caught.value.text("ko")
