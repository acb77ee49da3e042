"""Uploads start their photo's first answer (webui/upload_prefetch.py): the middleware sees exactly the successful
one-file uploads, the prefetcher never queues or passes an error on, and through the served app an API client's
/classify finds the forward pass its upload started (one pass per photo)."""

from __future__ import annotations

import asyncio
import logging
import re
import threading

import httpx
import pytest
from gradio_client import handle_file
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route

from support import EXAMPLE_PHOTOS
from webui.i18n import tr
from webui.upload_prefetch import UPLOAD_PATH, Prefetcher, UploadWatch


def _post(app: Starlette, method: str = "POST", path: str = UPLOAD_PATH) -> httpx.Response:
    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            return await http.request(method, path)

    return asyncio.run(call())


def _wait_until(condition, seconds: float = 10.0) -> None:
    done = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError("timed out")


def _watched_app(answer) -> tuple[Starlette, list[str]]:
    seen: list[str] = []

    async def upload(request):
        return answer(request)

    app = Starlette(routes=[Route(UPLOAD_PATH, upload, methods=["GET", "POST"]),
                            Route("/other", upload, methods=["POST"])],
                    middleware=[Middleware(UploadWatch, on_upload=seen.append)])
    return app, seen


@pytest.mark.parametrize("answer, method, path, expected", [
    (lambda r: JSONResponse(["/cache/abc/photo.png"]), "POST", UPLOAD_PATH, ["/cache/abc/photo.png"]),
    (lambda r: JSONResponse(["/cache/a.png", "/cache/b.png"]), "POST", UPLOAD_PATH, []),  # not one photo
    (lambda r: PlainTextResponse("too large", status_code=413), "POST", UPLOAD_PATH, []),  # refused upload
    (lambda r: JSONResponse(["/cache/abc/photo.png"]), "GET", UPLOAD_PATH, []),
    (lambda r: JSONResponse(["/cache/abc/photo.png"]), "POST", "/other", []),
    (lambda r: JSONResponse([{"path": "/cache/x"}]), "POST", UPLOAD_PATH, []),  # not a path
    # the answer in several chunks is still read whole
    (lambda r: StreamingResponse(iter([b'["/cache/', b'abc/photo', b'.png"]']), media_type="application/json"),
     "POST", UPLOAD_PATH, ["/cache/abc/photo.png"]),
])
def test_the_watch_sees_one_file_successful_uploads_only(answer, method, path, expected) -> None:
    app, seen = _watched_app(answer)
    response = _post(app, method, path)
    assert response.status_code in (200, 413)
    assert seen == expected
    if expected:  # the client's answer is untouched
        assert response.json() == expected


def test_an_upload_answer_that_is_not_json_is_logged_and_nothing_prefetched(caplog) -> None:
    app, seen = _watched_app(lambda r: PlainTextResponse("not json"))
    with caplog.at_level(logging.WARNING, logger="webui.upload_prefetch"):
        assert _post(app).text == "not json"
    assert seen == [] and "not JSON" in caplog.text


def test_the_prefetcher_runs_one_at_a_time_never_queues_and_logs_failures(caplog) -> None:
    release, running = threading.Event(), threading.Event()
    ran: list[str] = []

    def prefetch(path: str) -> None:
        ran.append(path)
        if path == "slow":
            running.set()
            assert release.wait(10)
        if path == "broken":
            raise RuntimeError("boom")

    prefetcher = Prefetcher(prefetch)
    try:
        prefetcher("slow")
        assert running.wait(10)
        prefetcher("meanwhile")  # one runs: skipped, not queued behind it
        release.set()
        _wait_until(lambda: not prefetcher._running.locked())
        with caplog.at_level(logging.ERROR, logger="webui.upload_prefetch"):
            prefetcher("broken")
            _wait_until(lambda: prefetcher.counts().failed == 1)
        counts = prefetcher.counts()
        assert (counts.started, counts.skipped, counts.failed) == (2, 1, 1), counts
        assert ran == ["slow", "broken"]
        assert "boom" in caplog.text  # with its traceback, not swallowed
    finally:
        prefetcher.close()


def test_an_api_clients_classify_finds_the_forward_pass_its_upload_started(app_server, client, services,
                                                                          tmp_path) -> None:
    prefetcher = app_server.app.prefetcher
    assert prefetcher is not None, "the CPU app prefetches uploads"
    before, started = services.first_answers.counts(), prefetcher.counts().started
    # bytes after the image's end: a photo no request has sent before, so nothing is cached for it
    path = tmp_path / "prefetch-test.png"
    path.write_bytes(EXAMPLE_PHOTOS[3].read_bytes() + b"prefetch-test")
    _, _, _, raw = client.predict(handle_file(str(path)), api_name="/classify")
    after = services.first_answers.counts()
    assert prefetcher.counts().started == started + 1
    # one forward pass for the photo, shared by the upload's prefetch and /classify (whichever came first)
    assert after.computed == before.computed + 1 and after.shared >= before.shared + 1, (before, after)
    direct = services.engine.classify(str(EXAMPLE_PHOTOS[3]))
    assert [t["index"] for t in raw["top"]] == [s.index for s in direct.top]


def test_a_bad_upload_is_still_reported_by_the_event_that_names_it(app_server, client, services, tmp_path) -> None:
    prefetcher = app_server.app.prefetcher
    failed = prefetcher.counts().failed
    bad = tmp_path / "not-a-photo.png"
    bad.write_bytes(b"this is not an image at all")
    with pytest.raises(Exception, match=re.escape(tr("errors.not_an_image", "en").split(".")[0])):
        client.predict(handle_file(str(bad)), api_name="/classify")
    assert prefetcher.counts().failed == failed  # a refused photo is not a prefetch failure: the event reports it
