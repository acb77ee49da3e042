"""bench/load_test.py's fresh copies: the endpoints whose answers the app keeps by the photo's bytes get bytes no
request sent before (same pixels), so a load run measures the computation, and the copies are removed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bench.load_test import ASSETS, RECIPES, make_images, photo_for
from googlenet.images import load_image


def test_cached_endpoints_get_fresh_bytes_with_the_same_pixels(tmp_path: Path) -> None:
    photos = [p for p in ASSETS.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"}]
    images = make_images(tmp_path, count=3 * len(photos))  # each photo as JPEG, PNG and WebP
    assert {Path(p).suffix for p in images} == {".jpg", ".png", ".webp"}
    assert RECIPES["/classify"].fresh_bytes and RECIPES["/top5"].fresh_bytes
    for image in images:
        original = Path(image).read_bytes()
        with photo_for("/classify", image) as first, photo_for("/classify", image) as second:
            assert first != image and len({first, second}) == 2
            digests = {hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in (image, first, second)}
            assert len(digests) == 3  # new bytes each time: no cache can answer
            assert load_image(first).image.tobytes() == load_image(original).image.tobytes()  # same photo
        assert not Path(first).exists() and not Path(second).exists()
    with photo_for("/branches", images[0]) as same:  # not kept by bytes: the image itself
        assert same == images[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(Path(p).name for p in images)
