"""The classroom in a real browser: Korean class names on the Korean page (the top-5, the target picker searched in
Hangul), the lesson in both languages with the example photos only, and a shared link that reopens the same view.
Uses the helpers of tests/webui/browser_support.py (headless Chromium through Playwright, the app served by the
test).
"""

from __future__ import annotations

import re

import pytest

from googlenet.labels import category_index, display_name
from googlenet.model import module_display_name
from webui.i18n import tr
from webui.tabs.lesson import STEPS

from .browser_support import (HANGUL, LESSON_VIEWS, Session, assert_no_untranslated_keys, browser,  # noqa: F401
                              choose, open_page, open_tab, wait_for_image, wait_for_top5)

TABBY = 281


def click_example(s: Session, name: str, where: str = "#photo-column") -> None:
    """Click an example photo (no upload: the lesson and the links must work with the examples alone)."""
    s.page.locator(f"{where} img[src*='{name}']").first.click()


def selected_tab(s: Session) -> str:
    return s.page.locator("[role=tab][aria-selected=true]").first.inner_text().strip()


def dropdown_text(s: Session, elem_id: str) -> str:
    return s.page.locator(f"#{elem_id} input").first.input_value()


def test_korean_page_names_classes_in_korean_and_the_target_picker_finds_them(open_page) -> None:  # noqa: F811 - the fixture
    s = open_page("ko", "desktop")
    click_example(s, "chelsea")
    names = wait_for_top5(s)
    assert all(HANGUL.search(name) and name.endswith(")") for name in names), names
    s.shot("korean-top5")

    open_tab(s, tr("attributions.tab", "ko"))
    choose(s, "attr-method", tr("attributions.method.saliency", "ko"))
    wanted = display_name(TABBY, "ko")  # "얼룩 고양이 (tabby)"
    box = s.page.locator("#attr-target input").first
    box.click()
    box.fill("")
    box.press_sequentially("얼룩 고양")  # Hangul typed into the filter
    option = s.page.get_by_role("option", name=wanted, exact=True)
    option.first.wait_for()
    assert s.page.get_by_role("option").count() < 20  # the filter narrowed 1,001 choices down
    s.shot("korean-target-search")
    option.first.click()
    assert dropdown_text(s, "attr-target") == wanted
    # the pick reaches the server as the class index
    s.page.locator("#attr-run").click()
    wait_for_image(s, "attr-figure", timeout_ms=240_000)
    s.page.locator("#attr-summary").get_by_text(f"{TABBY}: {wanted}").first.wait_for()
    # an English name finds it too
    box.click()
    box.fill("")
    box.press_sequentially("tabby")
    s.page.get_by_role("option", name=wanted, exact=True).first.wait_for()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_lesson_step_renders_with_an_example_photo(open_page, lang: str) -> None:  # noqa: F811 - the fixture
    s = open_page(lang, "desktop")
    open_tab(s, tr("lesson.tab", lang))
    s.page.locator("#lesson").get_by_text(tr(STEPS[0].title, lang), exact=True).first.wait_for()
    click_example(s, "coffee", where="#lesson-examples")
    for i, step in enumerate(STEPS):
        if i:
            s.page.locator(f"#lesson-next-{STEPS[i - 1].name}").click()
        text = s.page.locator(f"#lesson-text-{step.name}")
        text.get_by_text(tr(step.text, lang)[:12]).first.wait_for()
        s.page.locator(LESSON_VIEWS[step.name]).first.wait_for(timeout=180_000)
        shown = text.inner_text()
        assert "lesson." not in shown and "__i18n__" not in shown
        assert bool(HANGUL.search(shown)) == (lang == "ko"), shown
        s.page.locator("#lesson").get_by_text(tr(step.title, lang), exact=True).first.wait_for()
        s.shot(f"lesson-{i + 1}-{step.name}")
    if lang == "ko":
        assert HANGUL.search(s.page.inner_text("#lesson-top5"))
    assert "lesson." not in s.page.inner_text("#lesson")
    assert_no_untranslated_keys(s)
    # the last step names the photo's most active unit of 4c; its button opens the Units tab on that unit
    channel = re.search(r"(?:channel|채널) (\d+)", s.page.inner_text("#lesson-unit")).group(1)
    s.page.locator("#lesson-back-unit").click()  # Back: the previous step's view is still there
    s.page.locator("#lesson-aux img").first.wait_for()
    s.page.locator("#lesson-next-aux").click()
    s.page.locator("#lesson-open-units").click()
    s.page.wait_for_function("document.querySelector('#un-module input')?.value === '4c'")
    assert selected_tab(s) == tr("units.tab", lang)
    assert s.page.locator("#un-channel input").first.input_value() == channel
    s.page.locator("#un-images img").first.wait_for(timeout=180_000)  # and what it looks for is drawn
    s.shot("lesson-unit-opened")


def test_a_shared_link_reopens_the_same_view(open_page) -> None:  # noqa: F811 - the fixture
    teacher = open_page("en", "desktop")
    click_example(teacher, "coffee")
    teacher_top5 = [category_index(name) for name in wait_for_top5(teacher)]
    open_tab(teacher, tr("attributions.tab", "en"))
    choose(teacher, "attr-method", tr("attributions.method.layer_gradcam", "en"))
    choose(teacher, "attr-layer", module_display_name("inception4c"))
    teacher.page.locator("#share-copy").click()
    box = teacher.page.locator("#share-link textarea, #share-link input").first
    teacher.page.wait_for_function(
        "document.querySelector('#share-link textarea, #share-link input').value.startsWith('http')")
    link = box.input_value()
    assert teacher.page.evaluate("location.href") == link  # the address bar has it too
    assert re.search(r"photo=coffee", link) and "tab=attributions" in link
    assert "module=inception4c" in link and "method=layer_gradcam" in link
    teacher.shot("share-link")

    # a student opens it (in Korean): same photo, tab, module and method
    student = open_page("ko", "desktop")
    student.page.goto(link)
    student.page.wait_for_selector("#photo img")
    student.page.wait_for_function("document.querySelector('#attr-layer input')?.value === '4c'")
    assert selected_tab(student) == tr("attributions.tab", "ko")
    assert dropdown_text(student, "attr-method") == tr("attributions.method.layer_gradcam", "ko")
    student.page.locator("#attr-cost").get_by_text(re.compile(r"\d")).first.wait_for()  # the tab reacts to it
    student.shot("shared-view")
    open_tab(student, tr("classify.tab", "ko"))
    assert wait_for_top5(student) == [display_name(index, "ko") for index in teacher_top5], "not the same photo"


def test_a_link_to_a_lesson_step_and_bad_parameters_are_told_not_fatal(open_page, app_server) -> None:  # noqa: F811 - the fixture
    s = open_page("ko", "desktop")
    s.page.goto(f"{app_server.url}?photo=chelsea&tab=lesson&step=4&module=inception9z&colour=red")
    s.page.wait_for_selector("#photo")
    toast = s.page.locator(".toast-body").first
    toast.wait_for()
    notices = " ".join(s.page.locator(".toast-body").all_inner_texts())
    assert "inception9z" in notices and "colour" in notices and HANGUL.search(notices)
    assert selected_tab(s) == tr("lesson.tab", "ko")
    s.page.locator("#lesson-modules img").first.wait_for(timeout=120_000)  # step 4, computed for the photo
    s.page.locator("#lesson-text-modules").get_by_text(tr("lesson.modules.text", "ko")[:12]).first.wait_for()
    s.shot("shared-lesson-step")
