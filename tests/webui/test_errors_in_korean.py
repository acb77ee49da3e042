"""A Korean request gets Korean text for every kind of error the page can show: image problems, attribution
settings, a time budget the settings cannot fit, aux-heads options, a missing photo (gradio_client with the
browser's Accept-Language header, against the served app)."""

from __future__ import annotations

import re
import string

import pytest
from gradio_client import Client, handle_file

from support import EXAMPLE_PHOTOS
from webui.i18n import tr

HANGUL = re.compile(r"[\uac00-\ud7a3]")
KOREAN = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"}


def pattern(key: str, lang: str) -> re.Pattern:
    """The translated text for ``key`` with every {placeholder} matching anything."""
    parts = [re.escape(literal) + (".+?" if name else "") for literal, name, _, _ in string.Formatter().parse(tr(key, lang))]
    return re.compile("".join(parts), re.S)


@pytest.fixture(scope="module")
def korean(app_server) -> Client:
    return app_server.client(headers=KOREAN)


@pytest.fixture(scope="module")
def corrupt(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad") / "broken.png"
    path.write_bytes(open(EXAMPLE_PHOTOS[1], "rb").read()[:300])  # a PNG header and nothing else
    return path


def error_of(call) -> str:  # noqa: ANN001 - a zero-argument callable
    with pytest.raises(Exception) as info:
        call()
    return str(info.value)


CASES = {
    # kind of error -> (key, call(client, corrupt photo, good photo))
    "image: damaged file (Classify)": ("errors.corrupt",
                                       lambda c, bad, ok: c.predict(handle_file(str(bad)), api_name="/classify")),
    "image: damaged file (branches)": ("errors.corrupt", lambda c, bad, ok: c.predict(
        handle_file(str(bad)), "inception4a", "l2_energy", 4, "shared", api_name="/branches")),
    "image: damaged file (attribution)": ("errors.corrupt", lambda c, bad, ok: c.predict(
        handle_file(str(bad)), method="saliency", api_name="/attribute")),
    "no photo": ("common.no_image", lambda c, bad, ok: c.predict(None, api_name="/classify")),
    "attribution: steps out of range": ("errors.steps_range", lambda c, bad, ok: c.predict(
        handle_file(str(ok)), method="integrated_gradients", steps=999, api_name="/attribute")),
    "attribution: occlusion window too large": ("errors.occlusion_window_too_large", lambda c, bad, ok: c.predict(
        handle_file(str(ok)), method="occlusion", window=300, api_name="/attribute")),
    "attribution: unknown target class": ("errors.unknown_class", lambda c, bad, ok: c.predict(
        handle_file(str(ok)), method="saliency", target="not a class", api_name="/attribute")),
    "attribution: a budget the settings cannot fit": ("errors.budget_exceeded", lambda c, bad, ok: c.predict(
        handle_file(str(ok)), method="integrated_gradients", budget=0.001, api_name="/attribute")),
    "sanity check: a budget the settings cannot fit": ("errors.budget_exceeded", lambda c, bad, ok: c.predict(
        handle_file(str(ok)), method="occlusion", budget=0.001, api_name="/sanity_check")),
    "aux heads: too many repeats": ("errors.repeats_range", lambda c, bad, ok: c.predict(
        handle_file(str(ok)), True, True, 0, "batch", 99, "alone", api_name="/aux_heads")),
}


@pytest.mark.parametrize("kind", CASES)
def test_korean_request_gets_korean_text(korean, client, corrupt, kind):
    key, call = CASES[kind]
    message = error_of(lambda: call(korean, corrupt, EXAMPLE_PHOTOS[0]))
    assert pattern(key, "ko").search(message), message
    assert HANGUL.search(message)
    english = error_of(lambda: call(client, corrupt, EXAMPLE_PHOTOS[0]))  # and the same error, in English
    assert pattern(key, "en").search(english) and not HANGUL.search(english), english


def test_the_budget_message_names_the_method_in_korean(korean):
    message = error_of(lambda: korean.predict(handle_file(str(EXAMPLE_PHOTOS[0])), method="integrated_gradients",
                                              budget=0.001, api_name="/attribute"))
    assert tr("attributions.method.integrated_gradients", "ko") in message


def test_a_korean_cost_preview_explains_a_budget_problem_in_korean(services):
    from webui.tabs.attributions import AttributionsTab
    from types import SimpleNamespace

    request = SimpleNamespace(headers={"accept-language": KOREAN["Accept-Language"]})
    text = AttributionsTab(services).cost(str(EXAMPLE_PHOTOS[0]), "occlusion", "thorough", "inception4e", "black",
                                          0, 0, 0, 0.001, request)
    assert pattern("errors.budget_exceeded", "ko").search(text), text
