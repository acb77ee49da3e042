"""End to end in a real browser: headless Chromium (Debian's package) driven by Playwright, against the app
launched on 127.0.0.1 (the ``app_server`` fixture, random weights).

Each flow opens the page in one language and one screen size, uploads a real photo, waits for the top-5, then opens
EVERY tab on the page and runs that tab's main action, saving screenshots to ``test-artifacts/``. A tab without an
entry in :data:`TAB_STEPS` fails the test, so a new tab cannot land without a browser check: to add one, write a
``<tab>_steps(page, lang, shot)`` function and add its label key to the table.

The browser, the page session and the shared steps are tests/webui/browser_support.py's (Chromium missing: skipped,
or failed under CI).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Callable

import pytest
from PIL import Image

from support import ARTIFACTS
from webui.i18n import tr

from .browser_support import (HANGUL, LESSON_VIEWS, VIEWPORTS, Session,  # noqa: F401 - fixtures
                              assert_no_untranslated_keys, browser, choose, load_app, new_context, open_page,
                              open_tab, upload_photo, wait_for_classify_info, wait_for_image,
                              wait_for_top5)

# ---------------------------------------------------------------------------------------------------------------
# Page checks of the flows below (the shared steps are browser_support's)
# ---------------------------------------------------------------------------------------------------------------


def tab_labels(s: Session) -> list[str]:
    """Every tab's label, including tabs folded into the overflow menu on narrow screens."""
    labels = [t.strip() for t in s.page.get_by_role("tab").all_inner_texts()]
    overflow = s.page.locator(".overflow-dropdown button")
    labels += [t.strip() for t in overflow.all_text_contents()]
    return list(dict.fromkeys(label for label in labels if label))


def assert_fits_width(s: Session) -> None:
    """Readable means no sideways scrolling and body text no smaller than 14 px."""
    width = VIEWPORTS[s.viewport]["width"]
    scroll_width = s.page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width + 1, f"page is {scroll_width}px wide on a {width}px screen"
    size = s.page.evaluate("parseFloat(getComputedStyle(document.querySelector('#classify-info')).fontSize)")
    assert size >= 14, f"body text is {size}px"


def in_viewport(s: Session, selector: str) -> bool:
    """The element's whole bounding box lies inside the window, without scrolling."""
    box = s.page.locator(selector).first.bounding_box()
    size = VIEWPORTS[s.viewport]
    scroll_y = s.page.evaluate("window.scrollY")
    return (box is not None and box["x"] >= 0 and box["y"] + scroll_y >= 0 and scroll_y == 0
            and box["x"] + box["width"] <= size["width"] and box["y"] + box["height"] <= size["height"])


def assert_first_view_fits(s: Session) -> None:
    """At 1280x720 (a projector) the photo, the example photos and the top-5 are all visible at once."""
    s.page.evaluate("window.scrollTo(0, 0)")
    for selector in ("#top5", "#photo", "#photo-column .gallery, #photo-column table"):
        assert in_viewport(s, selector), f"{selector} is not inside the {s.viewport} window without scrolling"
    assert not in_viewport(s, "#report-file"), "the check must be able to fail: the report is below the fold"
    s.shot("first-view")


# ---------------------------------------------------------------------------------------------------------------
# Per-tab steps: the tab is open and a photo is uploaded; run the tab's main action and check what it shows.
# ---------------------------------------------------------------------------------------------------------------


def classify_steps(s: Session) -> None:
    wait_for_top5(s)
    wait_for_classify_info(s)
    s.page.locator("#top5").scroll_into_view_if_needed()
    s.shot("classify")
    # Export report (PNG): the file appears and is a one-page image.
    s.page.locator("#report-button").click()
    link = s.page.locator("#report-file a").first
    link.wait_for()
    assert "googlenet-report-chelsea.png" in s.page.inner_text("#report-file").replace("\n", "")
    with s.page.expect_download() as download:
        link.click()
    path = Path(download.value.path())
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width == 1240 and 1750 <= image.height <= 1756
    shutil.copy(path, ARTIFACTS / f"report-{s.lang}.png")
    s.page.locator("#report-file").scroll_into_view_if_needed()
    s.shot("report")


def branches_steps(s: Session) -> None:
    # The capture ran when the photo arrived: overview, heatmaps, channel grid and facts are there.
    for elem_id in ("br-overview", "br-heatmaps", "br-channels"):
        wait_for_image(s, elem_id)
    facts = s.page.locator("#br-facts")
    facts.get_by_text(re.compile("4a")).first.wait_for()
    assert "5x5" in facts.inner_text() and "3x3" in facts.inner_text()
    s.page.locator("#br-overview").scroll_into_view_if_needed()
    s.shot("branches")
    # Another module: re-drawn from the stored capture.
    choose(s, "br-module", "5b")
    s.page.wait_for_function("document.querySelector('#br-facts').innerText.includes('5b')")
    assert "1024" in s.page.inner_text("#br-facts")
    s.page.locator("#br-heatmaps").scroll_into_view_if_needed()
    s.shot("branches-5b")


def attributions_steps(s: Session) -> None:
    s.page.locator("#attr-cost").get_by_text(re.compile(r"\d")).first.wait_for()  # cost shown before running
    s.page.locator("#attr-run").click()
    wait_for_image(s, "attr-figure", timeout_ms=240_000)
    s.page.locator("#attr-summary").get_by_text(re.compile(r"\d")).first.wait_for()
    s.page.locator("#attr-figure").scroll_into_view_if_needed()
    s.shot("attributions")


def aux_steps(s: Session) -> None:
    assert s.page.locator("#aux-train-mode input").is_checked()  # train mode on by default
    s.page.locator("#aux-run").click()
    wait_for_image(s, "aux-charts", timeout_ms=120_000)
    summary = s.page.locator("#aux-summary")
    summary.get_by_text(re.compile("aux1")).first.wait_for()
    s.page.locator("#aux-charts").scroll_into_view_if_needed()
    s.shot("aux")


def lesson_steps(s: Session) -> None:
    """Every step of the lesson with Next, each with its text and its live view (from the page's photo)."""
    from webui.tabs.lesson import STEPS

    for i, step in enumerate(STEPS):
        if i:
            s.page.locator(f"#lesson-next-{STEPS[i - 1].name}").click()
        s.page.locator(f"#lesson-text-{step.name}").get_by_text(tr(step.text, s.lang)[:12]).first.wait_for()
        s.page.locator(LESSON_VIEWS[step.name]).first.wait_for(timeout=180_000)
    assert "lesson." not in s.page.inner_text("#lesson")
    s.page.locator("#lesson").scroll_into_view_if_needed()
    s.shot("lesson")


def units_steps(s: Session) -> None:
    # The unit's facts are there when the page loads; the default unit's visualization appears after one click.
    s.page.locator("#un-facts").get_by_text(re.compile("4a")).first.wait_for()
    s.page.locator("#un-run").click()
    s.page.locator("#un-images img").first.wait_for(timeout=120_000)
    s.page.locator("#un-images").scroll_into_view_if_needed()
    s.shot("units")


def live_steps(s: Session) -> None:
    # No camera in this browser (tests/webui/test_browser_live.py streams a fake one): the controls render.
    s.page.get_by_text(tr("live.explain", s.lang)[:30]).first.wait_for()
    for elem_id in ("live-camera", "live-pause", "live-freeze", "live-strip-on", "live-top5"):
        s.page.locator(f"#{elem_id}").first.wait_for()
    assert tr("live.pause", s.lang) in s.page.inner_text("#live-pause")
    s.shot("live")


# Tab label key (locales/*.json) -> its steps. Add one line per tab.
TAB_STEPS: dict[str, Callable[[Session], None]] = {
    "classify.tab": classify_steps,
    "branches.tab": branches_steps,
    "attributions.tab": attributions_steps,
    "aux.tab": aux_steps,
    "lesson.tab": lesson_steps,
    "units.tab": units_steps,
    "live.tab": live_steps,
}


# ---------------------------------------------------------------------------------------------------------------
# Flows
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "viewport"), [("en", "desktop"), ("ko", "phone"), ("ko", "desktop"),
                                                 ("en", "phone")])
def test_full_flow(open_page, lang: str, viewport: str) -> None:  # noqa: F811 - the fixture
    """Page in one language and size: chrome translated, photo classified, every tab's main action works."""
    s = open_page(lang, viewport)
    page = s.page
    # Chrome: title, subtitle and photo label in the page's language (two keys, two Markdown blocks).
    page.get_by_text(tr("common.subtitle", lang), exact=True).wait_for()
    page.get_by_text(tr("common.image", lang), exact=True).first.wait_for()
    assert page.evaluate("navigator.language").startswith(lang)
    s.shot("start")

    upload_photo(s)
    assert_no_untranslated_keys(s)
    assert_fits_width(s)
    if viewport == "desktop":
        assert_first_view_fits(s)
    body = page.inner_text("body")
    if lang == "ko":
        assert tr("classify.explain", "ko")[:20] in body
    else:
        assert not HANGUL.search(body), "Korean text on the English page"
    s.shot("uploaded")

    labels = tab_labels(s)
    known = {tr(key, lang): steps for key, steps in TAB_STEPS.items()}
    unknown = [label for label in labels if label not in known]
    assert not unknown, f"tabs without browser steps: {unknown} (add them to TAB_STEPS in tests/test_browser.py)"
    assert labels, "no tabs found"
    for label in labels:
        open_tab(s, label)
        known[label](s)
    s.shot("full", full_page=True)
    if viewport == "desktop":
        check_report_includes_branches_and_attribution(s)


def check_report_includes_branches_and_attribution(s: Session) -> None:
    """After the branch and attribution views were drawn, the exported report carries them (not the grey
    "not computed" boxes)."""
    import numpy as np

    open_tab(s, tr("classify.tab", s.lang))
    s.page.locator("#report-button").click()
    s.page.wait_for_timeout(500)
    link = s.page.locator("#report-file a").first
    link.wait_for()
    with s.page.expect_download() as download:
        link.click()
    with Image.open(download.value.path()) as image:
        page = np.asarray(image.convert("L"), dtype=np.float32)
    h, w = page.shape
    overview = page[int(h * 0.43):int(h * 0.63), int(w * 0.1):int(w * 0.9)]
    attribution = page[int(h * 0.72):int(h * 0.88), int(w * 0.08):int(w * 0.38)]
    # The placeholder boxes are one flat grey with a line of text; real figures have far more contrast.
    assert overview.std() > 35, f"branch overview missing from the report (std {overview.std():.1f})"
    assert attribution.std() > 25, f"attribution missing from the report (std {attribution.std():.1f})"


def test_errors_about_box_and_examples(open_page) -> None:  # noqa: F811 - the fixture
    """Korean: the no-photo error (server-written, chosen from Accept-Language) and its heading; the About box;
    an example photo is classified when clicked."""
    s = open_page("ko", "desktop")
    page = s.page
    page.locator("#report-button").click()
    toast = page.locator(".toast-body").first
    toast.wait_for()
    assert tr("common.no_image", "ko") in toast.inner_text()
    heading = page.evaluate(
        "getComputedStyle(document.querySelector('.toast-title.error'), '::before').content")
    assert tr("common.toast_error", "ko") in heading
    page.wait_for_timeout(1000)  # let the toast finish sliding in before the screenshot
    s.shot("error")
    page.locator("#toast-close, [data-testid=toast-close]").first.click()

    page.get_by_text(tr("classroom.about", "ko"), exact=True).click()
    page.get_by_text(re.compile("인셉션 모듈")).first.wait_for()
    about = page.inner_text("#about")
    assert "22" in about and "1x1" in about
    assert_no_untranslated_keys(s)
    s.shot("about")

    # Clicking an example photo (not an upload) classifies it too.
    page.locator("img[src*='coffee']").first.click()
    wait_for_top5(s)
    assert "ms" in wait_for_classify_info(s)


# ---------------------------------------------------------------------------------------------------------------
# Offline: a classroom without internet gets the whole page from the app itself
# ---------------------------------------------------------------------------------------------------------------


def test_every_request_of_the_page_goes_to_the_app_itself(browser, app_server) -> None:  # noqa: F811 - the fixture
    """Every tab's main action, recording every request the page makes (documents, scripts, styles, fonts,
    images, API calls, websockets): none may leave for another host (a font or script CDN, analytics). Requests
    elsewhere are answered with a network error, as in an offline classroom, and fail the test."""
    from urllib.parse import urlsplit

    app_host = urlsplit(app_server.url).netloc
    seen: list[str] = []
    foreign: list[str] = []

    def on_route(route) -> None:
        url = route.request.url
        seen.append(url)
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).netloc == app_host:
            route.continue_()
        else:
            foreign.append(url)
            route.abort("internetdisconnected")

    context = new_context(browser, "en", "desktop")
    try:
        context.route("**/*", on_route)
        page = context.new_page()
        page.on("websocket", lambda ws: (seen.append(ws.url), urlsplit(ws.url).netloc != app_host
                                         and foreign.append(ws.url)))
        load_app(page, app_server.url, "en", wait_until="load")  # not "networkidle": the event stream stays open
        s = Session(page, "en", "desktop")
        upload_photo(s)
        known = {tr(key, "en"): steps for key, steps in TAB_STEPS.items()}
        labels = tab_labels(s)
        assert labels and set(labels) <= set(known), labels
        for label in labels:
            open_tab(s, label)
            known[label](s)
        page.wait_for_timeout(1000)  # late requests (thumbnails, fonts) of the last view
        # the recorder can fail: a request to another host made by the page is caught (and then discounted)
        page.evaluate("fetch('https://cdn.example.org/probe.js').catch(() => null)")
        page.wait_for_timeout(500)
        assert foreign[-1:] == ["https://cdn.example.org/probe.js"], foreign
        foreign.pop()
    finally:
        context.close()
    assert len(seen) > 20, seen  # the page, its assets and every tab's API calls went through the recorder
    assert not foreign, f"the page reached other hosts: {sorted(set(foreign))}"
