"""Shared links (webui/share.py): a link's parameters are checked one by one; what is unknown is ignored with a
notice in the reader's language, never an error; a view is written back as the same query."""

from __future__ import annotations

import re

from urllib.parse import parse_qsl

from webui.share import parse_view, view_query

HANGUL = re.compile(r"[\uac00-\ud7a3]")
PHOTOS = ["chelsea", "coffee"]
TABS = ["classify", "branches", "attributions", "lesson"]
CHOICES = {"module": ["inception3a", "inception4c"], "method": ["saliency"], "step": [1, 2, 3]}


def test_a_good_link_gives_its_view_and_writes_back_the_same_query():
    params = {"photo": "coffee", "tab": "attributions", "module": "inception4c", "method": "saliency", "step": "2"}
    view = parse_view(params, PHOTOS, TABS, CHOICES)
    assert view.notices == ()
    assert view.values == {"photo": "coffee", "tab": "attributions", "module": "inception4c", "method": "saliency",
                           "step": 2}
    assert dict(parse_qsl(view_query(view.values).lstrip("?"))) == params
    assert view_query({}) == ""


def test_unknown_parameters_and_values_are_ignored_with_a_notice():
    params = {"photo": "../../etc/passwd", "tab": "nope", "module": "inception4c", "colour": "red", "step": "99"}
    view = parse_view(params, PHOTOS, TABS, CHOICES)
    assert view.values == {"module": "inception4c"}
    assert [n.key for n in view.notices] == ["share.unknown_value", "share.unknown_value", "share.unknown_param",
                                            "share.unknown_value"]
    for notice in view.notices:
        assert HANGUL.search(notice.text("ko")) and notice.text("en")
    assert "colour" in view.notices[2].text("en") and "99" in view.notices[3].text("en")
