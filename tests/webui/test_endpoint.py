"""webui.endpoint: the one decorator every event goes through (language, keyed errors, memory, concurrency), and
the built page's events all go through it."""

from __future__ import annotations

import inspect
import logging
import re
from types import SimpleNamespace
from typing import Optional

import gradio as gr
import pytest

from googlenet.images import ImageInputError
from webui import endpoint as endpoint_module
from webui.endpoint import endpoint, wire
from webui.limits import HEAVY


def korean_request() -> SimpleNamespace:
    return SimpleNamespace(headers={"accept-language": "ko-KR,ko;q=0.9,en;q=0.8"})


class Handlers:
    @endpoint()
    def echo(self, image: Optional[str], n: int = 2, *, lang: str) -> str:
        return f"{image}/{n}/{lang}"

    @endpoint(heavy=True)
    def slow(self, image: Optional[str], *, lang: str, progress: gr.Progress = gr.Progress()) -> str:
        return f"{lang}:{type(progress).__name__}"

    @endpoint()
    def bad_image(self, image: Optional[str], *, lang: str) -> str:
        raise ImageInputError("errors.empty_file")

    @endpoint()
    def bug(self, image: Optional[str], *, lang: str) -> str:
        raise RuntimeError("boom: internal detail /srv/secret")

    @endpoint()
    def stream(self, image: Optional[str], *, lang: str):
        yield f"first {lang}"
        raise ImageInputError("errors.empty_file")


def test_gradio_sees_the_request_instead_of_the_language():
    handlers = Handlers()
    params = inspect.signature(handlers.echo).parameters
    assert list(params) == ["image", "n", "request"]
    assert gr.utils.get_type_hints(handlers.echo)["request"] is gr.Request  # what Gradio injects by
    assert list(inspect.signature(handlers.slow).parameters) == ["image", "request", "progress"]
    assert handlers.echo("photo.png", 3, korean_request()) == "photo.png/3/ko"
    assert handlers.echo("photo.png") == "photo.png/2/en"  # no request (called from code): English


def test_keyed_errors_reach_the_user_in_their_language():
    handlers = Handlers()
    with pytest.raises(gr.Error) as english:
        handlers.bad_image("x", None)
    with pytest.raises(gr.Error) as korean:
        handlers.bad_image("x", korean_request())
    assert "empty" in english.value.message and "빈 파일" in korean.value.message
    assert korean.value.title == "오류"


def test_unexpected_errors_are_logged_and_answered_without_details(caplog):
    with caplog.at_level(logging.ERROR, logger="webui.endpoint"), pytest.raises(gr.Error) as info:
        Handlers().bug("x", korean_request())
    assert "boom" not in info.value.message and "/srv" not in info.value.message
    assert "서버" in info.value.message
    assert "boom: internal detail" in caplog.text  # the traceback goes to the log


def test_generators_stay_generators_and_translate_their_errors():
    handlers = Handlers()
    assert inspect.isgeneratorfunction(Handlers.stream)
    items = handlers.stream("x", korean_request())
    assert next(items) == "first ko"
    with pytest.raises(gr.Error, match="빈 파일"):
        next(items)


def test_memory_is_released_after_every_call_of_a_heavy_event_even_a_failing_one(monkeypatch):
    released = []
    monkeypatch.setattr(endpoint_module, "release_free_memory_soon", lambda: released.append(True))

    class Failing:
        @endpoint(heavy=True)
        def run(self, image: Optional[str], *, lang: str) -> str:
            raise RuntimeError("boom")

        @endpoint()
        def light(self, image: Optional[str], *, lang: str) -> str:
            return "ok"

    with pytest.raises(gr.Error):
        Failing().run("x")
    assert released == [True]
    Failing().light("x")
    assert released == [True]  # cheap events (e.g. /classify) are left alone


def test_wire_refuses_plain_functions_and_groups_heavy_events():
    with gr.Blocks() as blocks:
        box = gr.Textbox()
        with pytest.raises(TypeError, match="not an @endpoint"):
            wire(box.submit, lambda x: x, box, box)
        wire(box.submit, Handlers().slow, box, box, api_name="slow")
        wire(box.change, Handlers().echo, box, box)
    events = {fn.name: fn for fn in blocks.fns.values()}
    assert events["slow"].concurrency_id == HEAVY and events["slow"].api_visibility == "public"
    assert [fn.api_visibility for fn in blocks.fns.values() if fn.name != "slow"] == ["private"]


def test_every_event_of_the_page_is_an_endpoint(app_server):
    demo = app_server.app.demo
    options = {fn.api_name or fn.name: getattr(fn.fn, "endpoint_options", None) for fn in demo.fns.values()
               if fn.fn is not None}
    plain = [name for name, o in options.items() if o is None and not name.startswith("load_example")]
    assert not plain, f"events that bypass @endpoint: {plain}"
    # Gradio injects the request only if it can read the type hints (an unresolvable annotation hides them all)
    blind = [fn.name for fn in demo.fns.values() if getattr(fn.fn, "endpoint_options", None) is not None
             and gr.utils.get_type_hints(fn.fn).get("request") is not gr.Request]
    assert not blind, f"events whose request Gradio cannot see: {blind}"
    # every expensive event hands memory back; the HEAVY group is exactly the heavy endpoints
    for name in ("attribute", "compare_attributions", "sanity_check", "attribute_branches", "branches",
                 "aux_heads", "report"):
        assert options[name].trims_memory, name
    for fn in demo.fns.values():
        o = getattr(fn.fn, "endpoint_options", None)
        if o is not None:
            assert (fn.concurrency_id == HEAVY) == o.heavy, fn.name
    assert not options["classify"].trims_memory and not options["classify"].heavy  # the fast path is left alone
    # Gradio numbers the private repeats of a public event (feature_visualization_1: a unit picked in another tab)
    assert {re.sub(r"_\d+$", "", fn.api_name) for fn in demo.fns.values() if fn.concurrency_id == HEAVY} == {
        "attribute", "compare_attributions", "sanity_check", "attribute_branches", "feature_visualization",
        "class_visualization",
        "attribute_branches_run"}  # the page's own button for the branch attribution (private: it keeps a state)
