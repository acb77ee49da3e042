"""The Live tab in a real browser: Chromium's fake camera plays a clip made here from two example photos (2 s each,
looped); the live top-5 updates several times, changes when the photo in the clip changes, stops when paused, and
"freeze this frame" makes the frame the page's photo (the Classify tab answers for it)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from PIL import Image

from support import ASSETS

from .browser_support import Session, launch_chromium, new_context, open_tab, require_browser, wait_for_top5

WIDTH, HEIGHT, FPS, SECONDS_EACH = 320, 240, 10, 2
# With the tests' random weights these two differ in their top-5 (the top-1 is the same for every photo).
CLIP_PHOTOS = (ASSETS / "chelsea.png", ASSETS / "coffee.png")


def fitted(path: Path) -> np.ndarray:
    """The photo scaled to cover WIDTH x HEIGHT and centre-cropped: H x W x 3 floats in [0, 1]."""
    image = Image.open(path).convert("RGB")
    scale = max(WIDTH / image.width, HEIGHT / image.height)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
    left, top = (image.width - WIDTH) // 2, (image.height - HEIGHT) // 2
    return np.asarray(image.crop((left, top, left + WIDTH, top + HEIGHT)), dtype=np.float32) / 255.0


def i420(rgb: np.ndarray) -> bytes:
    """One frame as raw I420 planes (BT.601, video range): Y at full size, U and V at half size each way."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b

    def half(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(HEIGHT // 2, 2, WIDTH // 2, 2).mean(axis=(1, 3))

    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in (y, half(u), half(v)))


def write_y4m(path: Path, photos: tuple[Path, ...]) -> Path:
    """A YUV4MPEG2 clip: the header, then 'FRAME' + raw I420 planes per frame, SECONDS_EACH of each photo."""
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for photo in photos:
            frame = i420(fitted(photo))
            for _ in range(SECONDS_EACH * FPS):
                f.write(b"FRAME\n" + frame)
    return path


@pytest.fixture(scope="module")
def camera_browser(tmp_path_factory) -> Iterator[object]:
    require_browser()  # before the clip is made
    clip = write_y4m(tmp_path_factory.mktemp("camera") / "clip.y4m", CLIP_PHOTOS)
    with launch_chromium(["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                          f"--use-file-for-fake-video-capture={clip}"]) as chromium:
        yield chromium


def live_names(page) -> tuple[str, ...]:
    """The class names the live top-5 shows now (empty before the first answer)."""
    return tuple(n.strip() for n in page.locator("#live-top5 .confidence-set .text").all_inner_texts())


def watch(page, seconds: float) -> list[tuple[str, ...]]:
    """The live top-5, read every 50 ms for ``seconds``: the distinct values in the order they were shown."""
    seen: list[tuple[str, ...]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        names = live_names(page)
        if names and (not seen or seen[-1] != names):
            seen.append(names)
        page.wait_for_timeout(50)
    return seen


def start_camera(s) -> None:
    """Open the Live tab, grant the (fake) camera and start streaming."""
    from webui.i18n import tr

    open_tab(s, tr("live.tab", s.lang))
    s.page.locator("#live-camera [title='grant webcam access'] button").click()
    s.page.locator("#live-camera video").first.wait_for()
    s.page.locator("#live-camera .button-wrap button").first.click()  # start streaming


def test_live_top5_follows_the_camera_pauses_and_freezes(camera_browser, app_server) -> None:
    from googlenet.labels import CATEGORIES
    from webui.i18n import tr

    context = new_context(camera_browser, "en", "desktop", permissions=["camera"])
    try:
        page = context.new_page()
        page.goto(app_server.url, wait_until="domcontentloaded")
        page.wait_for_selector("#photo")
        s = Session(page, "en", "desktop")
        gate = app_server.app.services.live_gate
        before = gate.counts()
        start_camera(s)
        page.locator("#live-top5 .confidence-set").nth(4).wait_for()

        # Live: one clip period (both photos) and a bit: several answers, and the top-5 changes with the photo.
        seen = watch(page, 2 * SECONDS_EACH + 1.5)
        counts = gate.counts()
        assert counts.classified - before.classified >= 8, counts
        assert all(len(names) == 5 and set(names) <= set(CATEGORIES) for names in seen), seen
        assert len(set(seen)) >= 2, f"the live top-5 did not change with the photo: {seen}"
        assert counts.max_running <= gate.limit
        stats = page.inner_text("#live-stats")
        assert "updates" in stats and "ms" in stats
        s.shot("live")

        # Pause: no answer for longer than the photo takes to change, and nothing classified meanwhile.
        page.locator("#live-pause").click()
        page.locator("#live-resume").wait_for()
        page.wait_for_timeout(500)  # an answer already on its way may still arrive
        paused_names, paused_counts = live_names(page), gate.counts()
        assert watch(page, SECONDS_EACH + 0.5) == [paused_names]
        assert gate.counts().classified == paused_counts.classified

        # Freeze: the frame on screen becomes the page's photo, and the Classify tab answers for it.
        page.locator("#live-freeze").click()
        page.locator("#photo img").first.wait_for()
        open_tab(s, tr("classify.tab", "en"))
        frozen = wait_for_top5(s)
        assert len(frozen) == 5
        s.shot("live-frozen")

        # Resume: the updates start again.
        open_tab(s, tr("live.tab", "en"))
        page.locator("#live-resume").click()
        page.locator("#live-pause").wait_for()
        resumed_from = gate.counts().classified
        page.wait_for_timeout(1500)
        assert gate.counts().classified > resumed_from
    finally:
        context.close()
