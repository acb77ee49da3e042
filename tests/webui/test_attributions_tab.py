"""The Attributions tab: /attribute, /compare_attributions, /sanity_check and /attribute_branches through
gradio_client against the served app."""

from __future__ import annotations

import pytest
import torch

from googlenet import INCEPTION_MODULES
from support import EXAMPLE_PHOTOS


# ---------------------------------------------------------------------------------------------------------------
# The API, through gradio_client against a launched app
# ---------------------------------------------------------------------------------------------------------------


def test_attribute_endpoint_returns_an_image_and_the_numbers(client):
    from gradio_client import handle_file

    figure, summary, numbers = client.predict(handle_file(str(EXAMPLE_PHOTOS[0])), "saliency", "top1",
                                              api_name="/attribute")
    assert Image_open(figure).size[0] > 300
    assert numbers["method"] == "saliency"
    assert numbers["cost"] == {"forward": 1, "backward": 1, "passes": 2}
    assert "deletion_auc" in numbers["faithfulness"] and "insertion_auc" in numbers["faithfulness"]
    assert numbers["target_name"] in summary
    # any of the 1000 classes, by "index: name"
    _, _, other = client.predict(handle_file(str(EXAMPLE_PHOTOS[0])), "integrated_gradients", "3: tiger shark",
                                 "fast", api_name="/attribute")
    assert other["target"] == 3 and other["target_name"] == "tiger shark"
    assert "convergence_delta" in other


def test_korean_reader_sees_the_target_in_korean_and_the_json_stays_english(app_server):
    """The picker's value is the class index (its label "얼룩 고양이 (tabby)"); a Korean summary names the class in
    Korean and English, the JSON in English; a Korean name typed in is accepted too."""
    from gradio_client import handle_file

    korean = app_server.client(headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    for target in ("281", "얼룩 고양이"):
        _, summary, numbers = korean.predict(handle_file(str(EXAMPLE_PHOTOS[0])), "saliency", target,
                                             api_name="/attribute")
        assert numbers["target"] == 281 and numbers["target_name"] == "tabby"
        assert "**281: 얼룩 고양이 (tabby)**" in summary


def test_class_pickers_show_names_valued_by_index():
    from webui.components import class_choices

    korean, english = class_choices("ko", head=[("top-1", "top1")]), class_choices("en")
    assert korean[0] == ("top-1", "top1") and len(korean) == 1001 and len(english) == 1000
    assert korean[282] == ("얼룩 고양이 (tabby)", "281") and english[281] == ("tabby", "281")


def Image_open(path: str):
    from PIL import Image

    return Image.open(path)


def test_attribute_endpoint_reports_progress_for_a_long_method(client):
    import time

    from gradio_client import handle_file

    job = client.submit(handle_file(str(EXAMPLE_PHOTOS[0])), method="occlusion", target="top1", preset="fast",
                        api_name="/attribute")
    seen: list[float] = []
    while not job.done():
        status = job.status()
        if status.progress_data and status.progress_data[0].progress is not None:
            seen.append(status.progress_data[0].progress)
        time.sleep(0.02)
    _, _, numbers = job.result()
    assert numbers["cost"]["forward"] == 50  # 7 x 7 windows + the unoccluded pass
    distinct = sorted(set(seen))
    assert len(distinct) >= 3, distinct  # several updates while it ran, driven by our own counting
    assert 0 < distinct[0] < 0.5 and distinct[-1] > 0.5


def test_attribute_endpoint_rejects_bad_requests(client):
    from gradio_client import handle_file

    with pytest.raises(Exception, match="unknown ImageNet class"):
        client.predict(handle_file(str(EXAMPLE_PHOTOS[0])), "saliency", "not a class", api_name="/attribute")
    with pytest.raises(Exception):
        client.predict(None, "saliency", "top1", api_name="/attribute")


def test_branch_and_sanity_endpoints(client):
    from gradio_client import handle_file

    matrix, maps, numbers = client.predict(handle_file(str(EXAMPLE_PHOTOS[0])), target="top1",
                                           module="inception5b", api_name="/attribute_branches")
    assert Image_open(matrix).size[0] > 300 and Image_open(maps).size[0] > 600
    assert list(numbers["modules"]) == list(INCEPTION_MODULES)
    assert set(numbers["modules"]["inception4c"]["branches"]) == {"branch1", "branch2", "branch3", "branch4"}
    figure, summary, sanity = client.predict(handle_file(str(EXAMPLE_PHOTOS[0])), method="layer_gradcam",
                                             api_name="/sanity_check")
    assert Image_open(figure).size[0] > 600
    assert len(sanity["steps"]) == 11 and sanity["mode"] == "cascading"
    assert all(-1 <= s["spearman_abs"] <= 1 for s in sanity["steps"])
    figure, compared = client.predict(handle_file(str(EXAMPLE_PHOTOS[0])), methods=["saliency", "layer_gradcam"],
                                      scale="shared", api_name="/compare_attributions")
    assert set(compared["methods"]) == {"saliency", "layer_gradcam"}
    assert compared["methods"]["saliency"]["target"] == compared["methods"]["layer_gradcam"]["target"]


def test_app_attributions_use_the_device_batch_size(services):
    """The app asks for batches of 4 on a CPU (half the memory of 8, measured) and 8 on a GPU."""
    from googlenet.attributions import batch_size_for
    from webui.tabs.attributions import AttributionsTab

    assert batch_size_for(torch.device("cpu")) == 4 and batch_size_for(torch.device("cuda")) == 8
    assert services.engine.device.type == "cpu"
    settings = AttributionsTab(services).settings_for("integrated_gradients", "balanced", "inception4e", "black",
                                                      None, None, None)
    assert settings.internal_batch_size == 4
