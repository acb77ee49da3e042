"""The Units tab's dataset examples through gradio_client: /dataset_examples on an example photo (receptive-field-
sized crops, sorted values, complete JSON), crops from a photo index made here, bad units answered in Korean."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image

from bench.launcher import in_process_app
from googlenet.branch_facts import receptive_fields
from googlenet.model import GoogLeNet
from googlenet.photo_index import IndexSettings, index_folder, load_index

from support import EXAMPLE_PHOTOS
from support.photo_index import synthetic_photos

KOREAN = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"}
FIELDS = receptive_fields(GoogLeNet())


def image_of(item) -> Image.Image:
    return Image.open(item["image"] if isinstance(item, dict) else item[0])


def caption_of(item) -> str:
    return item["caption"] if isinstance(item, dict) else item[1]


def check_crops(gallery, entries, branch_key: str) -> None:
    """Each crop is its entry's box of the 224x224 input: the receptive field, clipped only at the borders."""
    field = FIELDS[branch_key]
    assert len(gallery) == len(entries)
    for item, entry in zip(gallery, entries):
        left, top, right, bottom = entry["box"]
        assert image_of(item).size == (right - left, bottom - top)
        for lo, hi, centre in ((left, right, field.centre(entry["position"][1])),
                               (top, bottom, field.centre(entry["position"][0]))):
            inside = centre - (field.size - 1) / 2 >= 0 and centre + (field.size - 1) / 2 <= 223
            assert hi - lo == field.size if inside else hi - lo < field.size
            assert lo <= centre < hi


def test_dataset_examples_on_an_example_photo(client):
    photo = EXAMPLE_PHOTOS[1]
    gallery, overlay, current, note, raw = client.predict(handle_file(str(photo)), "inception3b", "branch2", 7,
                                                          api_name="/dataset_examples")
    assert raw["unit"] == {"module": "inception3b", "branch": "branch2", "channel": 7, "module_channel": 128 + 7}
    assert raw["source"] == "examples" and raw["index_photos"] == len(EXAMPLE_PHOTOS)
    assert raw["receptive_field"] == {"size": FIELDS["inception3b.branch2"].size, "jump": 8}
    examples = raw["examples"]
    values = [e["value"] for e in examples]
    assert values == sorted(values, reverse=True) and len(examples) == len(EXAMPLE_PHOTOS)  # this photo is one
    assert {e["photo"] for e in examples} == {p.name for p in EXAMPLE_PHOTOS}
    assert all(set(e) >= {"photo", "value", "position", "box", "current_photo", "available"} for e in examples)
    check_crops(gallery, examples, "inception3b.branch2")
    assert raw["current"]["photo"] == photo.name and len(raw["current"]["top"]) >= 1
    check_crops(current, raw["current"]["top"], "inception3b.branch2")
    top = [e["value"] for e in raw["current"]["top"]]
    assert top == sorted(top, reverse=True) and raw["current"]["max"] == top[0]
    # this photo's best value is the one the example-photo index holds for it
    assert next(e["value"] for e in examples if e["photo"] == photo.name) == pytest.approx(top[0], abs=1e-4)
    assert Image.open(overlay).size == (224, 224)
    assert "index-photos" in note  # how to build a better index


def test_an_uploaded_photo_competes_with_the_examples(client, tmp_path):
    path = tmp_path / "mine.png"
    Image.fromarray(np.full((240, 240, 3), 200, dtype=np.uint8)).save(path)
    _, _, _, _, raw = client.predict(handle_file(str(path)), "inception4a", "branch1", 3,
                                     api_name="/dataset_examples")
    names = [e["photo"] for e in raw["examples"]]
    assert "mine.png" in names and len(names) == len(EXAMPLE_PHOTOS) + 1
    assert [e["current_photo"] for e in raw["examples"]].count(True) == 1


def test_without_a_photo_only_the_examples(client):
    gallery, overlay, current, _, raw = client.predict(None, "inception5b", "branch4", 0,
                                                       api_name="/dataset_examples")
    assert raw["current"] is None and overlay is None and not current
    assert len(gallery) == len(EXAMPLE_PHOTOS)
    check_crops(gallery, raw["examples"], "inception5b.branch4")
    for e in raw["examples"]:  # a deep unit's field (379 px) is larger than the photo: most of it, clipped
        left, top, right, bottom = e["box"]
        assert min(right - left, bottom - top) > 224 // 2 and max(right - left, bottom - top) <= 224


@pytest.fixture(scope="module")
def indexed_server(tmp_path_factory, settings, weights_info):
    """The app started with --photo-index: an index of synthetic photos and two example photos, made here."""
    from googlenet.inference import fuse_batchnorm
    from googlenet.weights import load_model

    folder = tmp_path_factory.mktemp("collection")
    synthetic_photos(folder, 6, seed=3)
    for path in EXAMPLE_PHOTOS[:2]:
        (folder / f"copy-{path.name}").write_bytes(path.read_bytes())
    out = folder.parent / "collection.npz"
    model = fuse_batchnorm(load_model(weights_info))
    index_folder(model, folder, out, weights_sha256=weights_info.sha256, progress=False,
                 settings=IndexSettings(k=5, batch_size=4))
    with in_process_app(replace(settings, photo_index=str(out))) as server:
        yield server, load_index(out)


def test_crops_come_from_the_index(indexed_server):
    server, index = indexed_server
    client = server.client()
    gallery, _, _, note, raw = client.predict(handle_file(str(EXAMPLE_PHOTOS[2])), "inception4c", "branch3", 11,
                                              api_name="/dataset_examples")
    assert raw["source"] == "index" and raw["index_photos"] == 8
    slot = index.slot("inception4c.branch3")
    row = slot.offset + 11
    expected = [index.photos[p] for p in index.top.photos[row]]
    assert [e["photo"] for e in raw["examples"]] == expected  # the index's own order, not the current photo's
    np.testing.assert_allclose([e["value"] for e in raw["examples"]], index.top.values[row], rtol=1e-5)
    assert [e["position"] for e in raw["examples"]] == [list(divmod(int(q), slot.grid[1]))
                                                       for q in index.top.positions[row]]
    assert not any(e["current_photo"] for e in raw["examples"])
    check_crops(gallery, raw["examples"], "inception4c.branch3")
    assert [caption_of(g).split(" · ")[0] for g in gallery] == expected
    assert "8" in note and "index-photos" not in note


def test_a_bad_unit_is_a_keyed_error_in_korean(app_server):
    korean = app_server.client(headers=KOREAN)
    with pytest.raises(Exception) as caught:
        korean.predict(None, "inception4a", "branch2", 999, api_name="/dataset_examples")
    assert "채널" in str(caught.value) and "0..207" in str(caught.value)
    with pytest.raises(Exception) as caught:
        korean.predict(None, "mixed4a", "branch2", 0, api_name="/dataset_examples")
    assert "mixed4a" in str(caught.value) and any("\uac00" <= ch <= "\ud7a3" for ch in str(caught.value))


def test_the_photo_index_setting_and_a_bad_index_fails_fast(tmp_path, settings):
    from webui.services import Services
    from webui.settings import Settings
    from googlenet.photo_index import PhotoIndexError

    assert Settings.from_env({}).photo_index is None
    assert Settings.from_env({"GOOGLENET_PHOTO_INDEX": "a.npz"}).photo_index == "a.npz"
    assert Settings.from_env({}).with_argv(["--photo-index", "b.npz"]).photo_index == "b.npz"
    with pytest.raises(PhotoIndexError) as caught:  # before serving, with the reason
        Services(replace(settings, photo_index=str(tmp_path / "missing.npz")))
    assert caught.value.key == "errors.index_missing"


def test_an_index_for_other_weights_is_refused_at_start(tmp_path, settings, indexed_server):
    from webui.services import Services
    from googlenet.photo_index import PhotoIndexError, save_index

    _, index = indexed_server
    other = save_index(replace(index, weights_sha256="0" * 64), tmp_path / "other.npz")
    with pytest.raises(PhotoIndexError) as caught:
        Services(replace(settings, photo_index=str(other)))
    assert caught.value.key == "errors.index_other_weights"
