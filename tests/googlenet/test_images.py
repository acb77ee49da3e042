"""googlenet.images: every odd or hostile file from the corpus, straight through the loader (no app)."""

from __future__ import annotations

import re
import string

import numpy as np
import pytest
from PIL import Image, ImageFile

import googlenet.images as images
from googlenet.images import ImageInputError, load_image, open_image
from googlenet.transforms import center_crop, limit_aspect
from support.hostile_corpus import Case, build_cases, encode, exif_rotated, photo, png_bomb
from googlenet.messages import catalog, tr

CASES = build_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case):
    if case.error is not None:
        with pytest.raises(ImageInputError) as info:
            load_image(case.data)
        assert info.value.key == case.error
        assert str(info.value) == tr(case.error, "en", **info.value.params)  # the CLI's text: the English one
        return
    loaded = load_image(case.data)
    assert loaded.image.mode == "RGB"
    assert {n.key for n in loaded.notices} == set(case.notices)
    if case.size is not None:
        assert loaded.image.size == case.size


def test_corpus_is_large_enough():
    assert len(CASES) >= 20
    assert sum(c.error is not None for c in CASES) >= 8


def test_paths_and_bytes_give_the_same_image(tmp_path):
    case = next(c for c in CASES if c.name == "palette.png")
    path = case.write(tmp_path)
    assert np.array_equal(np.asarray(open_image(path)), np.asarray(open_image(case.data)))


def test_transparent_pixels_become_white():
    rgba = np.asarray(open_image(next(c for c in CASES if c.name == "rgba.png").data))
    assert (rgba[:, :40] == 255).all()  # the transparent left half
    assert rgba[:, 40:].mean() < 250  # the photo is still there


def test_palette_transparency_becomes_white():
    data = encode(Image.new("P", (8, 8), 0), "PNG", transparency=0)
    assert (np.asarray(open_image(data)) == 255).all()


def test_sixteen_bit_grayscale_keeps_its_tones():
    values = np.array([[0, 257 * 64, 257 * 128, 65535]], dtype=np.uint16)
    out = np.asarray(open_image(encode(Image.fromarray(values, mode="I;16"), "PNG")))
    assert out[0, :, 0].tolist() == [0, 64, 128, 255]  # divided by 257: no contrast stretch, no clipping


def test_one_bit_image_is_black_and_white():
    bits = Image.new("1", (4, 2), 0)
    bits.putpixel((0, 0), 1)
    out = np.asarray(open_image(encode(bits, "PNG")))
    assert out[0, 0].tolist() == [255, 255, 255] and out[1, 1].tolist() == [0, 0, 0]


def test_cmyk_is_converted_to_rgb():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    r, g, b = np.asarray(open_image(encode(cmyk, "TIFF"))).reshape(-1, 3).mean(axis=0)
    assert r > 200 and g < 60 and b < 60


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_exif_orientation_is_applied(fmt):
    upright = np.asarray(photo(), dtype=np.float32)
    out = np.asarray(open_image(exif_rotated(fmt)), dtype=np.float32)
    assert out.shape == upright.shape
    tolerance = 0.5 if fmt == "PNG" else 6.0  # JPEG: compression noise only
    assert np.abs(out - upright).mean() < tolerance
    sideways = np.asarray(photo().transpose(Image.Transpose.ROTATE_180), dtype=np.float32)
    assert np.abs(out - sideways).mean() > 4 * tolerance  # the check can fail


def test_orientation_is_applied_once():
    once = open_image(exif_rotated("JPEG"))
    assert open_image(once).size == once.size  # the tag is gone, so reopening does not rotate again


def test_large_jpeg_is_decoded_at_reduced_scale():
    loaded = load_image(next(c for c in CASES if c.name == "large.jpg").data)  # 6000x4000
    assert loaded.original_size == (6000, 4000)
    assert images.WORKING_SHORT_SIDE <= min(loaded.image.size) < 2 * images.WORKING_SHORT_SIDE


def test_large_png_is_reduced():
    loaded = load_image(encode(photo((2100, 1100)), "PNG"))
    assert loaded.image.size == (1050, 550)  # box-reduced by 2: short side stays >= 512


@pytest.mark.parametrize("size", [(20000, 20000), (12000, 9000)], ids=["over-pillow-limit", "over-our-limit"])
def test_bomb_is_rejected_before_any_decoding(monkeypatch, size):
    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ImageInputError) as info:
        load_image(png_bomb(*size))
    assert info.value.key == "errors.too_many_pixels"
    assert (info.value.params["width"], info.value.params["height"]) == size
    assert f"{size[0]}x{size[1]}" in str(info.value)


def test_pixel_limit_boundary():
    limits = images.ImageLimits(max_pixels=100 * 100)
    assert load_image(encode(Image.new("RGB", (100, 100)), "PNG"), limits).image.size == (100, 100)
    with pytest.raises(ImageInputError, match="101x100"):
        load_image(encode(Image.new("RGB", (101, 100)), "PNG"), limits)


def test_missing_file_says_upload_again(tmp_path):
    with pytest.raises(ImageInputError) as info:
        load_image(tmp_path / "gone.png")
    assert info.value.key == "errors.file_gone"


def test_extreme_aspect_is_cut_before_resizing():
    strip = photo((4000, 8))
    assert limit_aspect(strip).size == (32, 8)
    assert center_crop(strip).size == (224, 224)


def test_limit_aspect_keeps_the_network_crop():
    import torchvision.transforms.functional as TF

    from googlenet.transforms import PREPROCESS as spec

    wide = photo((1500, 250))  # 6:1
    direct = TF.center_crop(TF.resize(wide, [spec.resize_size], interpolation=spec.interpolation,
                                      antialias=spec.antialias), [spec.crop_size])
    ours = center_crop(wide)
    assert np.abs(np.asarray(ours, np.float32) - np.asarray(direct, np.float32)).mean() < 2.0


def test_engine_reports_notices(engine):
    gif = next(c for c in CASES if c.name == "animated.gif")
    result = engine.classify(gif.data)
    assert [n.key for n in result.notices] == ["errors.notice_animated"]
    assert result.to_json()["notices"] == ["errors.notice_animated"]
    assert engine.classify(next(c for c in CASES if c.name == "photo.png").data).notices == ()


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_is_translated_and_in_step():
    # the keys the image loader raises or notices, read from its source
    keys = set(re.findall(r'"(errors\.[a-z_]+)"', open(images.__file__, encoding="utf-8").read()))
    assert len(keys) >= 10, keys
    en, ko = catalog("en"), catalog("ko")
    for key in keys:
        assert key in en and key in ko, key  # the CLI (English) and the page say the same thing
        assert _placeholders(ko[key]) == _placeholders(en[key]), key
        assert re.search("[가-힣]", ko[key]), key


# --- phone and camera formats, and the limits of large photos ---------------------------------------------------


def png_header_only(width: int, height: int, color_type: int = 6) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` (8-bit, RGBA by default) and whose pixel data is one
    empty row: a file that lies about its size."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 8))
            + chunk(b"IEND", b""))


def jpeg_header_only(width: int, height: int, progressive: bool) -> bytes:
    """A small JPEG whose frame header is patched to declare ``width`` x ``height``."""
    import struct

    data = bytearray(encode(photo((64, 48)), "JPEG", progressive=progressive))
    sof = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_phone_formats_decode_like_the_png(fmt):
    png = np.asarray(open_image(encode(photo(), "PNG")), dtype=np.float32)
    loaded = load_image(encode(photo(), fmt, quality=90))
    assert loaded.format == fmt and loaded.image.size == (320, 240)
    assert np.abs(np.asarray(loaded.image, dtype=np.float32) - png).mean() < 6.0  # lossy compression only


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_phone_formats_classify_like_the_png(engine, fmt):
    """Every example photo: the same top-1 on the calibrated test model as HEIC/AVIF as as PNG."""
    from support import EXAMPLE_PHOTOS

    for path in EXAMPLE_PHOTOS:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
        png, other = engine.classify(encode(rgb, "PNG")), engine.classify(encode(rgb, fmt, quality=90))
        assert other.top[0].index == png.top[0].index, (path.name, fmt)
        assert abs(other.top[0].probability - png.top[0].probability) < 0.1


def test_heif_decoder_is_registered_only_when_used():
    import subprocess
    import sys

    from support import ROOT

    code = ("import googlenet.images as m; from PIL import Image; a = 'HEIF' in Image.OPEN; "
            "m.load_image(open('assets/chelsea.png','rb').read()); print(a, 'HEIF' in Image.OPEN)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "True"], done.stderr[-2000:]


def test_large_jpeg_passes_pillows_guard_which_stays_for_other_formats():
    limit = Image.MAX_IMAGE_PIXELS
    # 190 MP: over Pillow's own refusal (2 x 89.5 MP), under our JPEG limit: it gets as far as decoding (and this
    # one, a small file claiming that size, is then refused as damaged, before libjpeg invents grey pixels).
    with pytest.raises(ImageInputError) as info:
        load_image(jpeg_header_only(17000, 11200, progressive=False))
    assert info.value.key == "errors.corrupt"
    assert Image.MAX_IMAGE_PIXELS == limit  # nothing global was changed
    with pytest.raises(ImageInputError) as info:
        load_image(png_header_only(17000, 11200))
    assert info.value.key == "errors.too_many_pixels" and "17000x11200" in str(info.value)
    with pytest.raises(ImageInputError) as info:
        load_image(jpeg_header_only(20000, 11000, progressive=False))  # 220 MP: over the JPEG limit
    assert info.value.key == "errors.too_many_pixels" and str(info.value).endswith(
        tr("errors.too_many_pixels", "en", width=20000, height=11000, megapixels="220.0", limit="200.0")[-40:])


def test_decode_memory_is_checked_before_decoding(monkeypatch):
    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixel data was decoded")

    progressive, png = jpeg_header_only(13416, 8944, progressive=True), png_header_only(6000, 5000)
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    # a progressive JPEG keeps all its DCT coefficients: 120 MP at 4:2:0 is about 360 MB whatever the draft scale
    with pytest.raises(ImageInputError) as info:
        load_image(progressive, images.ImageLimits(max_decode_mb=300))
    assert info.value.key == "errors.decode_too_large"
    assert 330 <= int(info.value.params["mb"].replace(",", "")) <= 400
    # 30 MP RGBA PNG: 4 bytes per pixel in Pillow
    with pytest.raises(ImageInputError) as info:
        load_image(png, images.ImageLimits(max_decode_mb=100))
    assert info.value.key == "errors.decode_too_large" and info.value.params["format"] == "PNG"


def test_decode_estimate_of_a_baseline_jpeg_is_the_drafted_size():
    from googlenet.jpeg_header import open_jpeg

    image = open_jpeg(__import__("io").BytesIO(jpeg_header_only(13416, 8944, progressive=False)))
    image.draft(None, (13416 // 8, 8944 // 8))
    assert images.decode_bytes(image) < 20 * 2**20  # 1677 x 1118 RGB
    assert images.decode_bytes(image, buffered_jpeg=(13416, 8944)) > 300 * 2**20


def test_png_that_lies_about_its_size_is_refused_clearly():
    with pytest.raises(ImageInputError) as info:
        load_image(png_header_only(3000, 2000))
    assert info.value.key == "errors.corrupt" and info.value.params["format"] == "PNG"


def test_image_limits_must_be_positive_whole_numbers():
    with pytest.raises(images.ImageSettingError) as info:
        images.ImageLimits(max_pixels=0)
    assert info.value.key == "errors.setting_not_positive"
    with pytest.raises(images.ImageSettingError):
        images.ImageLimits(max_decode_mb=1.5)  # type: ignore[arg-type]
