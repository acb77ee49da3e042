"""What the browser tests share: headless Chromium (Debian's package) driven by Playwright, a page session in one
language and one screen size, and the steps every flow uses (upload a photo, wait for the top-5, open a tab).

Test modules import the fixtures (``browser``, ``open_page``) with the helpers, so each module gets its own
module-scoped browser: ``from .browser_support import browser, open_page, ...``. The app is the ``app_server``
fixture (tests/conftest.py: served from the test process, random weights).

Chromium missing: skipped with the reason, except under CI (``CI=true``), where the tests fail instead.
``make test`` (browser-deps) installs Debian's chromium and fonts-noto-cjk where it runs as root.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import pytest

from support import ARTIFACTS, ASSETS
from webui.i18n import tr

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "VIEWPORTS", "LOCALES", "PHOTO", "TIMEOUT_MS", "HANGUL", "LESSON_VIEWS",
           "on_ci", "require_browser", "launch_chromium", "new_context", "load_app", "browser", "Session",
           "open_page", "upload_photo", "wait_for_top5", "open_tab", "assert_no_untranslated_keys", "wait_for_image",
           "choose"]

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS: dict[str, dict[str, int]] = {
    "desktop": {"width": 1280, "height": 720},  # a classroom projector
    "phone": {"width": 390, "height": 844},
}
LOCALES = {"en": "en-US", "ko": "ko-KR"}
PHOTO = ASSETS / "chelsea.png"
TIMEOUT_MS = 120_000  # generous: CI machines are slow and the CPU is shared
HANGUL = re.compile(r"[\uac00-\ud7a3]")
#: Each lesson step's live view (webui/tabs/lesson.py STEPS): what shows that the step has drawn.
LESSON_VIEWS: dict[str, str] = {
    "photo": "#lesson-photo img", "top5": "#lesson-top5 .confidence-set", "crop": "#lesson-crop img",
    "modules": "#lesson-modules img", "attribution": "#lesson-attribution img", "aux": "#lesson-aux img",
    "unit": "#lesson-unit p"}


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_browser() -> None:
    """Skip (or, on CI, fail) with a clear reason when the browser cannot run here."""
    problem = None
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        problem = (f"Chromium not found at {CHROMIUM}: run `make browser-deps` as root on Debian "
                   "(apt-get install chromium fonts-noto-cjk) or set CHROMIUM_PATH")
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing: pip install -r requirements-dev.txt"
    if problem:
        if on_ci():
            pytest.fail(problem)
        pytest.skip(problem)


@contextmanager
def launch_chromium(extra_args: Sequence[str] = ()) -> Iterator[Any]:
    """Headless Chromium with the tests' options (and ``extra_args``, such as a fake camera), closed afterwards."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=[*CHROMIUM_ARGS, *extra_args])
        yield chromium
        chromium.close()


def new_context(browser: Any, lang: str, viewport: str, **options: Any) -> Any:
    """A browser context with that locale (navigator.language and Accept-Language) and window size, and the tests'
    default timeout; ``options`` go to Playwright's ``new_context`` (permissions, ...). The caller closes it."""
    context = browser.new_context(locale=LOCALES[lang], viewport=VIEWPORTS[viewport],
                                  extra_http_headers={"Accept-Language": f"{LOCALES[lang]},{lang};q=0.9"}, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def load_app(page: Any, url: str, lang: str, wait_until: str = "domcontentloaded") -> None:
    """Open the app at ``url`` and wait until the photo input and the title (in ``lang``) are on the page."""
    page.goto(url, wait_until=wait_until)
    page.wait_for_selector("#photo")
    page.get_by_text(tr("common.title", lang), exact=True).first.wait_for()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with launch_chromium() as chromium:
        yield chromium


@dataclass
class Session:
    page: object  # playwright.sync_api.Page
    lang: str
    viewport: str

    def shot(self, name: str, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{self.viewport}-{self.lang}-{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture()
def open_page(browser, app_server):
    """open_page(lang, viewport) -> Session: a fresh browser context with that locale (navigator.language and
    Accept-Language) and window size, on the loaded page."""
    contexts = []

    def open_(lang: str, viewport: str) -> Session:
        context = new_context(browser, lang, viewport)
        contexts.append(context)
        page = context.new_page()
        load_app(page, app_server.url, lang)
        return Session(page, lang, viewport)

    yield open_
    for context in contexts:
        context.close()


# ---------------------------------------------------------------------------------------------------------------
# Shared steps
# ---------------------------------------------------------------------------------------------------------------


def upload_photo(s: Session, photo: Path = PHOTO) -> None:
    s.page.set_input_files("#photo input[type=file]", str(photo))
    wait_for_top5(s)


def wait_for_top5(s: Session, elem_id: str = "top5") -> list[str]:
    """The five class names shown by the Label: ImageNet categories as the page's language shows them ("tabby";
    "얼룩 고양이 (tabby)" in Korean)."""
    from googlenet.labels import display_names

    rows = s.page.locator(f"#{elem_id} .confidence-set")
    rows.nth(4).wait_for()
    names = [n.strip() for n in s.page.locator(f"#{elem_id} .confidence-set .text").all_inner_texts()]
    assert len(names) == 5, names
    shown = set(display_names(s.lang))
    assert all(name in shown for name in names), names
    return names


def wait_for_classify_info(s: Session) -> str:
    """The line under the top-5 ("Weights: ... | device ... | ms"). It comes with the details, which follow the first
    answer (the top-5) in a second event, so it is waited for, not read at once."""
    label = tr("classify.info", s.lang, weights="", device="", ms=0).split("**")[1]  # "Weights:" / "가중치:"
    s.page.locator("#classify-info").get_by_text(label).first.wait_for()
    return s.page.inner_text("#classify-info")


def open_tab(s: Session, label: str) -> None:
    """Click a tab by its visible label (through the overflow menu when the screen is too narrow for all)."""
    tab = s.page.get_by_role("tab", name=label, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
    else:
        s.page.locator(".overflow-menu button").first.click()
        s.page.locator(".overflow-dropdown button", has_text=label).first.click()
    s.page.get_by_role("tab", name=label, exact=True).first.wait_for()


def assert_no_untranslated_keys(s: Session) -> None:
    body = s.page.inner_text("body")
    assert "__i18n__" not in body and "translation_metadata" not in body, "an I18N key was shown untranslated"


def wait_for_image(s: Session, elem_id: str, timeout_ms: int | None = None) -> None:
    """An output gr.Image has received a picture."""
    s.page.locator(f"#{elem_id} img").first.wait_for(timeout=timeout_ms)


def choose(s: Session, elem_id: str, option: str) -> None:
    """Pick an option of a gr.Dropdown by its visible text."""
    s.page.locator(f"#{elem_id} input").first.click()
    s.page.get_by_role("option", name=option, exact=True).first.click()
