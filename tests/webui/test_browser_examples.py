"""In a real browser, in Korean: the Units tab's dataset examples appear for the photo on the page, with the crops
where the unit fires most, the overlay and the photo's own crops (the session helpers are browser_support.py's)."""

from __future__ import annotations

from webui.i18n import tr

from .browser_support import browser, open_page, open_tab, upload_photo  # noqa: F401 - fixtures and helpers


def test_dataset_examples_appear_in_the_units_tab(open_page) -> None:  # noqa: F811
    s = open_page("ko", "desktop")
    upload_photo(s)
    open_tab(s, tr("units.tab", "ko"))
    s.page.locator("#ex-run").scroll_into_view_if_needed()
    s.page.locator("#ex-run").click()
    s.page.locator("#ex-gallery img").first.wait_for(timeout=120_000)
    s.page.locator("#ex-current img").first.wait_for(timeout=60_000)
    s.page.locator("#ex-overlay img").first.wait_for(timeout=60_000)
    assert s.page.locator("#ex-gallery img").count() >= 4  # the example photos (no index given) and this photo
    note = s.page.locator("#ex-note").inner_text()
    assert "index-photos" in note and "사진 색인" in note  # says, in Korean, how to build a better index
    s.shot("units-dataset-examples")
