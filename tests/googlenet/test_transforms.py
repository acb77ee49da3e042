"""Preprocessing equals the weights' own transforms(); labels come from the weights' metadata."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from torchvision.models import GoogLeNet_Weights

from googlenet.labels import CATEGORIES, NUM_CLASSES, category_index, category_name
from googlenet.transforms import PREPROCESS, center_crop, denormalize, preprocess

from support import EXAMPLE_PHOTOS


@pytest.mark.parametrize("photo", EXAMPLE_PHOTOS, ids=lambda p: p.name)
def test_preprocess_equals_official_transforms(photo):
    image = Image.open(photo).convert("RGB")
    crop, x = preprocess(image)
    expected = GoogLeNet_Weights.IMAGENET1K_V1.transforms()(image).unsqueeze(0)
    assert crop.size == (224, 224)
    assert x.shape == expected.shape == (1, 3, 224, 224)
    assert torch.equal(x, expected)


def test_preprocess_parameters_come_from_the_weights():
    preset = GoogLeNet_Weights.IMAGENET1K_V1.transforms()
    assert PREPROCESS.crop_size == preset.crop_size[0] == 224
    assert PREPROCESS.resize_size == preset.resize_size[0] == 256
    assert list(PREPROCESS.mean) == list(preset.mean)
    assert list(PREPROCESS.std) == list(preset.std)


@pytest.mark.parametrize("size", [(1000, 20), (20, 1000), (300, 300), (64, 48)])
def test_crop_is_always_224_square(size):
    assert center_crop(Image.new("RGB", size, "red")).size == (224, 224)


def test_denormalize_inverts_normalization():
    image = Image.effect_noise((224, 224), 64).convert("RGB")
    crop, x = preprocess(image)
    back = denormalize(x)[0].permute(1, 2, 0).mul(255).round().to(torch.uint8)
    original = torch.from_numpy(__import__("numpy").array(crop))
    assert (back.int() - original.int()).abs().max() <= 1


def test_categories_are_the_weights_metadata():
    assert CATEGORIES == tuple(GoogLeNet_Weights.IMAGENET1K_V1.meta["categories"])
    assert NUM_CLASSES == 1000
    assert category_name(281) == "tabby"


@pytest.mark.parametrize("query", [281, "281", "tabby", "Tabby", "281: tabby"])
def test_category_index_accepts_names_and_indices(query):
    assert category_index(query) == 281


@pytest.mark.parametrize("bad", [-1, 1000, "no such class", "1000: x"])
def test_category_index_rejects_unknown(bad):
    with pytest.raises(ValueError):
        category_index(bad)
