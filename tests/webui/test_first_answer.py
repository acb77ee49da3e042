"""The first answer comes first: /top5 answers with the label alone, and on the page the photo's first event sends
only the top-5; the crop, the summary and the JSON follow in a chained event, and the other tabs' work on the photo
starts only after that."""

from __future__ import annotations

import re

import httpx
import pytest
from gradio_client import handle_file

from googlenet.messages import KeyedError
from support import EXAMPLE_PHOTOS
from webui.first_answers import digest_of_bytes
from webui.tabs.classify import ClassifyTab, classify_on_device

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def test_top5_endpoint_is_the_label_alone_and_equals_classify(client):
    photo = handle_file(str(EXAMPLE_PHOTOS[0]))
    top5 = client.predict(photo, api_name="/top5")
    label, crop_path, summary, raw = client.predict(photo, api_name="/classify")
    assert isinstance(top5, dict) and set(top5) == {"label", "confidences"}  # one output: no crop file, no JSON
    assert crop_path is None  # /classify's crop is opt-in (with_crop)
    assert [c["label"] for c in top5["confidences"]] == [c["label"] for c in label["confidences"]]
    assert top5["label"] == raw["top"][0]["name"]


def test_top5_without_image_is_a_clear_error(client):
    with pytest.raises(Exception, match="Upload a photo first"):
        client.predict(None, api_name="/top5")


def _by_elem_id(config: dict) -> dict[str, int]:
    return {c["props"]["elem_id"]: c["id"] for c in config["components"] if c.get("props", {}).get("elem_id")}


def test_the_photo_event_sends_the_top5_alone_and_the_rest_follows(app_server):
    config = httpx.get(app_server.url + "config").json()
    ids = _by_elem_id(config)
    deps = {d["id"]: d for d in config["dependencies"]}
    on_photo = [d for d in deps.values() if [ids["photo"], "change"] in d["targets"]]
    # one event on the photo's change: the top-5 and the kept result (a State), nothing that must be encoded
    assert len(on_photo) == 1, [d["outputs"] for d in on_photo]
    first = on_photo[0]
    assert ids["top5"] in first["outputs"] and ids["crop"] not in first["outputs"]
    assert ids["classify-json"] not in first["outputs"] and len(first["outputs"]) == 2

    def then_of(dep: dict) -> list[dict]:
        return [d for d in deps.values() if d.get("trigger_after") == dep["id"]]

    details = then_of(first)
    assert len(details) == 1 and {ids["crop"], ids["classify-info"], ids["classify-json"]} <= set(details[0]["outputs"])
    later = then_of(details[0])
    # the branch capture (overview figure) and the attribution tab's top-5 buttons start after the details
    assert any(ids["br-overview"] in d["outputs"] for d in later), [d["outputs"] for d in later]



def _quick(app_server, data: bytes, lang: str = "en") -> httpx.Response:
    """The page's quick request (webui/tabs/classify.py QUICK_JS): the photo's bytes to the quick-top5 component's
    server function, as Gradio's front end sends them (multipart), in one direct request."""
    config = httpx.get(app_server.url + "config").json()
    component = _by_elem_id(config)["quick-top5"]
    return httpx.post(app_server.url + "gradio_api/component_server/", timeout=60,
                      headers={"Accept-Language": lang},
                      data={"component_id": str(component), "fn_name": "quick_top5", "session_hash": "quicktest"},
                      files={"photo": ("photo.png", data, "image/png")})


def test_the_quick_request_answers_the_top5_of_the_bytes_it_carries(app_server, client, services):
    data = EXAMPLE_PHOTOS[1].read_bytes() + b"quick-test"  # bytes after the image's end: a photo never seen
    before = services.first_answers.counts()
    response = _quick(app_server, data)
    assert response.status_code == 200, response.text
    answer = response.json()
    after = services.first_answers.counts()
    assert after.computed == before.computed + 1 and after.max_running_quick <= services.limits.quick
    assert answer == client.predict(handle_file(str(EXAMPLE_PHOTOS[1])), api_name="/top5")  # Label data, same answer
    # kept for the page's queued change event of the same upload: no second forward pass
    assert services.first_answers.get(digest_of_bytes(data), lambda: pytest.fail("computed again")) is not None


def test_the_quick_request_speaks_korean_and_leaves_bad_photos_to_the_queued_event(app_server):
    korean = _quick(app_server, EXAMPLE_PHOTOS[0].read_bytes() + b"ko", lang="ko-KR").json()
    assert all(HANGUL.search(c["label"]) for c in korean["confidences"]), korean
    bad = _quick(app_server, b"not an image at all")
    assert bad.status_code == 200 and bad.json() is None  # the queued event tells the reader why, in their language


def test_the_page_event_reuses_the_quick_answer(services, tmp_path):
    """The queued change event after the quick request: the uploaded file has the same digest, so the kept result
    is its answer (and a file that cannot be read is simply classified, so the engine says why)."""
    data = EXAMPLE_PHOTOS[2].read_bytes() + b"reuse"
    path = tmp_path / "upload.png"
    path.write_bytes(data)
    quick = services.first_answers.get(digest_of_bytes(data),
                                       lambda: services.on_device(classify_on_device, data), quick=True)
    computed = services.first_answers.counts().computed
    tab = ClassifyTab(services)
    labels, kept = tab.first_answer.__wrapped__(tab, str(path), lang="en")
    assert kept.ran is quick and services.first_answers.counts().computed == computed
    assert list(labels) == [s.name for s in quick.value.top]
    with pytest.raises(KeyedError):
        tab.first_answer.__wrapped__(tab, str(tmp_path / "gone.png"), lang="en")


def test_the_quick_request_has_the_upload_limit(app_server, services):
    """It bypasses the queue, not the upload limit: Gradio's multipart parser refuses more than max_upload_mb."""
    computed = services.first_answers.counts().computed
    too_big = _quick(app_server, b"\x89PNG" + bytes(services.limits.max_upload_mb * 2**20 + 1))
    assert too_big.status_code == 413, too_big.status_code
    assert services.first_answers.counts().computed == computed
