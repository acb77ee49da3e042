"""The Units tab through gradio_client: /feature_visualization and /class_visualization, their JSON, the cache,
and bad input answered in the reader's language."""

from __future__ import annotations

import numpy as np
import pytest
from gradio_client import Client
from PIL import Image

from googlenet import BRANCHES, INCEPTION_MODULES
from googlenet.messages import tr

STEPS, SIZE = 6, 64  # seconds per call: the method's quality is tested in tests/googlenet/features/


def images_of(gallery) -> list[np.ndarray]:
    return [np.asarray(Image.open(item["image"] if isinstance(item, dict) else item[0]).convert("RGB"))
            for item in gallery]


def test_feature_visualization_endpoint(client):
    gallery, raw = client.predict("inception4a", "branch2", 5, "channel", STEPS, SIZE, 3,
                                  api_name="/feature_visualization")
    (image,) = images_of(gallery)
    assert image.shape == (SIZE, SIZE, 3) and image.std() > 1  # the raw image: its own size, nothing drawn
    assert raw["unit"] == {"module": "inception4a", "branch": "branch2", "channel": 5, "module_channel": 192 + 5,
                           "branch_channels": 208, "module_channels": 512}
    assert len(raw["objective_per_step"]) == STEPS and raw["preview"] is False
    assert raw["activation_final"][0] > raw["activation_start"][0]
    assert raw["settings"]["seed"] == 3 and raw["settings"]["objective"] == "channel"
    # the same request again: from the disk cache, the same bytes
    gallery2, raw2 = client.predict("inception4a", "branch2", 5, "channel", STEPS, SIZE, 3,
                                    api_name="/feature_visualization")
    assert raw2["cached"] is True and raw["cached"] is False
    assert np.array_equal(images_of(gallery2)[0], image)


def test_diversity_gives_four_images(client):
    gallery, raw = client.predict("inception3a", "branch1", 2, "diversity", 3, SIZE, 0,
                                  api_name="/feature_visualization")
    images = images_of(gallery)
    assert len(images) == 4 and len(raw["activation_final"]) == 4
    assert not np.array_equal(images[0], images[1])


def test_class_visualization_endpoint(client):
    gallery, raw = client.predict("tabby", STEPS, SIZE, 1, api_name="/class_visualization")
    (image,) = images_of(gallery)
    assert image.shape == (SIZE, SIZE, 3)
    assert raw["class"] == {"index": 281, "name": "tabby"} and raw["target"] == "class.281"
    assert raw["settings"]["objective"] == "logit" and len(raw["objective_per_step"]) == STEPS


def test_previews_stream_before_the_final_image(client):
    job = client.submit("inception3b", "branch4", 1, "neuron", 40, SIZE, 7, api_name="/feature_visualization")
    outputs = job.outputs() if job.result() is not None else []
    raws = [raw for _, raw in outputs]
    assert raws[0]["preview"] is True and raws[0]["step"] == 0  # the starting image comes first
    assert raws[-1]["preview"] is False


@pytest.mark.parametrize(("args", "lang", "key", "params"), [
    (("inception9z", "branch1", 0, "channel", 4, 64, 0), "ko", "errors.unknown_module",
     dict(value="inception9z", choices=", ".join(INCEPTION_MODULES))),
    (("inception4a", "branch7", 0, "channel", 4, 64, 0), "ko", "errors.unknown_branch",
     dict(value="branch7", choices=", ".join(BRANCHES))),
    (("inception4a", "branch3", 48, "channel", 4, 64, 0), "ko", "errors.channel_range",
     dict(value=48, module="inception4a", branch="branch3", last=47)),
    (("inception4a", "branch1", 0, "channel", 4, 8, 0), "ko", "errors.features_range",
     dict(name="size", value=8, low=64, high=512)),
])
def test_bad_input_is_a_translated_error(app_server, args, lang, key, params):
    client = Client(app_server.url, headers={"Accept-Language": lang}, verbose=False)
    with pytest.raises(Exception) as info:
        client.predict(*args, api_name="/feature_visualization")
    assert tr(key, lang, **params) in str(info.value)


def test_unknown_objective_is_refused(client):
    with pytest.raises(Exception, match="dream"):  # the radio's choices: Gradio checks them before our code
        client.predict("inception4a", "branch1", 0, "dream", 4, 64, 0, api_name="/feature_visualization")


def test_bad_class_is_a_translated_error(app_server):
    client = Client(app_server.url, headers={"Accept-Language": "ko"}, verbose=False)
    with pytest.raises(Exception) as info:
        client.predict("unicorn", 4, 64, 0, api_name="/class_visualization")
    assert tr("errors.unknown_class", "ko", value="unicorn") in str(info.value)


def test_a_cached_request_runs_no_forward_pass(services, monkeypatch):
    from googlenet.features import FeatureSettings
    from googlenet.features.replica import TargetNet
    from googlenet.model import GoogLeNet
    from googlenet.units import Unit
    from webui.tabs.units import UnitsTab

    tab, unit = UnitsTab(services), Unit("inception3b", "branch1", 9)
    settings = FeatureSettings(steps=3, size=64, seed=11)
    calls = {"n": 0}
    originals = (TargetNet.forward, GoogLeNet.forward)

    def counting(fn):
        def wrapper(*args, **kwargs):
            calls["n"] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(TargetNet, "forward", counting(originals[0]))
    monkeypatch.setattr(GoogLeNet, "forward", counting(originals[1]))
    first = list(tab.frames(unit, settings, "en", lambda *a, **k: None))
    assert calls["n"] >= 3 and first[-1][1] is False  # rendered: the optimization's forward passes
    calls["n"] = 0
    again = list(tab.frames(unit, settings, "en", lambda *a, **k: None))
    assert calls["n"] == 0 and len(again) == 1 and again[0][1] is True  # from the disk cache, no forward pass
    assert again[0][0].images[0].tobytes() == first[-1][0].images[0].tobytes()
