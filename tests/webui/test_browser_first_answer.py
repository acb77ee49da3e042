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


def _unseen_photo(tmp_path, tag: str):
    """The example photo with bytes no request has sent yet (text after the PNG's end: the same image, a new
    digest), so that nothing kept from another test answers it."""
    path = tmp_path / f"unseen-{tag}.png"
    path.write_bytes(PHOTO.read_bytes() + tag.encode())
    return path


def test_a_picked_photo_is_answered_by_one_quick_request_and_the_page_event_reuses_it(
        open_page, services, client, tmp_path) -> None:  # noqa: F811
    from gradio_client import handle_file

    s = open_page("en", "desktop")
    requests: list[str] = []
    s.page.on("request", lambda request: requests.append(request.url))
    before = services.first_answers.counts()
    photo = _unseen_photo(tmp_path, "quick")
    s.page.set_input_files("#photo input[type=file]", str(photo))
    names = wait_for_top5(s)
    wait_for_image(s, "crop")  # Gradio's own upload and its events followed the held pick
    s.page.locator("#photo img").first.wait_for()
    quick = [url for url in requests if "/component_server" in url]
    assert len(quick) == 1, requests
    after = services.first_answers.counts()
    # one forward pass for the photo: the quick request computed it, the queued change event shared it
    assert after.computed == before.computed + 1 and after.shared >= before.shared + 1, (before, after)
    expected = client.predict(handle_file(str(PHOTO)), api_name="/top5")
    assert names == [c["label"] for c in expected["confidences"]]


def test_without_a_quick_answer_the_page_answers_as_before(
        open_page, services, monkeypatch, tmp_path) -> None:  # noqa: F811
    """The quick request finds the server busy (None): the held pick is released at once and the queued event
    computes and shows the top-5."""
    from webui.tabs.classify import ClassifyTab

    monkeypatch.setattr(ClassifyTab, "quick_top5", lambda self, data, request=None: None)
    s = open_page("en", "desktop")
    before = services.first_answers.counts()
    start = time.monotonic()
    s.page.set_input_files("#photo input[type=file]", str(_unseen_photo(tmp_path, "busy")))
    wait_for_top5(s)
    assert time.monotonic() - start < 30
    wait_for_image(s, "crop")
    assert services.first_answers.counts().computed == before.computed + 1  # computed by the queued event
