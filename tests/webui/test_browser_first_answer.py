"""In a real browser: the top-5 of a new photo is on the page while its details (crop, summary, JSON) are still being
made, and they follow by themselves."""

from __future__ import annotations

import time

from .browser_support import PHOTO, browser, open_page, wait_for_image, wait_for_top5  # noqa: F401 - fixtures

DETAILS_DELAY_S = 6.0


def test_top5_shows_before_the_crop_and_json_which_follow(open_page, monkeypatch) -> None:  # noqa: F811
    import webui.tabs.classify as classify

    real = classify.details_outputs

    def slow_details(ran, lang):  # the details take long: the top-5 must not wait for them
        time.sleep(DETAILS_DELAY_S)
        return real(ran, lang)

    monkeypatch.setattr(classify, "details_outputs", slow_details)
    s = open_page("en", "desktop")
    start = time.monotonic()
    s.page.set_input_files("#photo input[type=file]", str(PHOTO))
    names = wait_for_top5(s)
    shown_after = time.monotonic() - start
    assert s.page.locator("#crop img").count() == 0, "the crop came with the top-5"
    assert shown_after < DETAILS_DELAY_S, shown_after
    wait_for_image(s, "crop")
    assert time.monotonic() - start >= DETAILS_DELAY_S
    s.page.locator("#classify-info").get_by_text("ms").first.wait_for()
    assert wait_for_top5(s) == names
    s.shot("first-answer")
