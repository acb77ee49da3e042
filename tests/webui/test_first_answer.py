"""The first answer comes first: /top5 answers with the label alone, and on the page the photo's first event sends
only the top-5; the crop, the summary and the JSON follow in a chained event, and the other tabs' work on the photo
starts only after that."""

from __future__ import annotations

import httpx
from gradio_client import handle_file

from support import EXAMPLE_PHOTOS


def test_top5_endpoint_is_the_label_alone_and_equals_classify(client):
    photo = handle_file(str(EXAMPLE_PHOTOS[0]))
    top5 = client.predict(photo, api_name="/top5")
    label, crop_path, summary, raw = client.predict(photo, api_name="/classify")
    assert isinstance(top5, dict) and set(top5) == {"label", "confidences"}  # one output: no crop file, no JSON
    assert [c["label"] for c in top5["confidences"]] == [c["label"] for c in label["confidences"]]
    assert top5["label"] == raw["top"][0]["name"]


def test_top5_without_image_is_a_clear_error(client):
    import pytest

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
