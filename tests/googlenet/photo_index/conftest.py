"""What the photo-index tests share: a small folder of photos, the app's model (BatchNorm folded, as the app and the
command line run it) and an independent torchvision GoogLeNet with the same weights, read through forward hooks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import torchvision

from googlenet.inference import fuse_batchnorm
from googlenet.weights import load_model

from support import EXAMPLE_PHOTOS
from support.photo_index import synthetic_photos


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory) -> Path:
    """10 photos (4 example photos, 6 synthetic ones, one in a subfolder) and one unreadable file."""
    folder = tmp_path_factory.mktemp("photos")
    for path in EXAMPLE_PHOTOS:
        shutil.copy(path, folder / path.name)
    synthetic_photos(folder, 5)
    (folder / "more").mkdir()
    synthetic_photos(folder / "more", 1, seed=7)
    (folder / "broken.jpg").write_bytes(b"this is not a JPEG")
    return folder


@pytest.fixture(scope="session")
def app_model(weights_info):
    """What the app's branch views and index-photos run: the loaded weights with BatchNorm folded, channels_last."""
    return fuse_batchnorm(load_model(weights_info)).to(memory_format=torch.channels_last)


@pytest.fixture(scope="session")
def torchvision_model(random_state_dict):
    """torchvision's own GoogLeNet with the same weights (transform_input as the app loads a weights file)."""
    model = torchvision.models.googlenet(weights=None, aux_logits=True, transform_input=True, init_weights=False)
    model.load_state_dict(random_state_dict, strict=True)
    return model.eval()
