"""Where a unit fires on one photo: its map (as torchvision computes it), upsampled for an overlay, and its top
positions as receptive-field crops."""

from __future__ import annotations

import numpy as np

from googlenet.branch_facts import receptive_fields
from googlenet.images import open_image
from googlenet.photo_index.examples import crop_at, firing_map, overlap, top_positions
from googlenet.transforms import preprocess
from googlenet.units import locate

from support import EXAMPLE_PHOTOS
from support.photo_index import torchvision_branches


def test_firing_map_matches_torchvision_and_upsamples(app_model, torchvision_model):
    crop, x = preprocess(open_image(EXAMPLE_PHOTOS[0]))
    location = locate(app_model, "inception4a", "branch2", 17)
    fired = firing_map(app_model, x.contiguous(memory_format=__import__("torch").channels_last), location)
    expected = torchvision_branches(torchvision_model, x)["inception4a.branch2"][0, 17]  # 14 x 14
    np.testing.assert_allclose(fired.grid_map, expected, rtol=1e-3, atol=1e-3)
    assert fired.upsampled.shape == (224, 224) and fired.geometry.grid == (14, 14)
    assert abs(fired.upsampled.max() - fired.maximum) <= 0.05 * max(fired.maximum, 1e-6) + 1e-4
    positions = top_positions(fired, 4)
    y, x0 = np.unravel_index(np.argmax(expected), expected.shape)
    assert positions[0] == (int(y), int(x0))  # the strongest position first
    field = receptive_fields(app_model)["inception4a.branch2"]
    boxes = [fired.geometry.box(*p) for p in positions]
    for i, a in enumerate(boxes):
        for b in boxes[:i]:
            assert overlap(a, b) <= 0.5  # no crop mostly repeats a stronger one
    values = [fired.grid_map[p] for p in positions]
    assert values == sorted(values, reverse=True)
    box = fired.geometry.box(*positions[0])
    patch = crop_at(crop, box)
    assert patch.size == box.size and box.size[0] <= field.size


def test_deep_units_crop_the_whole_photo(app_model):
    _, x = preprocess(open_image(EXAMPLE_PHOTOS[1]))
    fired = firing_map(app_model, x, locate(app_model, "inception5b", "branch3", 0))
    assert fired.geometry.field.size > 224 and fired.geometry.box(3, 3).as_list() == [0, 0, 224, 224]
    assert len(top_positions(fired, 4)) == 1  # every position sees the whole photo: one crop says it all
