"""In a real browser: a click on one of the branches tab's most active channels opens the Units tab with that unit
chosen and shows its feature visualization (the session helpers are browser_support.py's)."""

from __future__ import annotations

import re

from webui.i18n import tr

from .browser_support import browser, open_page, open_tab, upload_photo  # noqa: F401 - fixtures and helpers


def test_a_click_on_a_top_channel_shows_its_visualization(open_page) -> None:  # noqa: F811
    s = open_page("en", "desktop")
    upload_photo(s)
    open_tab(s, tr("branches.tab", "en"))
    s.page.locator("#br-top").scroll_into_view_if_needed()  # a virtual table: rows are drawn where they are seen
    rows = s.page.locator("#br-top [role=row]").filter(has=s.page.locator("[role=gridcell]"))
    rows.nth(8).wait_for()  # 8 channels per branch by default: a row of branch2 (the table lists branch1 first)
    cells = [c.strip() for c in rows.nth(8).locator("[role=gridcell]").all_inner_texts()]
    module, branch, channel = cells[0], cells[1], int(float(cells[2]))
    assert (module, branch) == ("inception4a", "branch2"), cells
    rows.nth(8).locator("[role=gridcell]").nth(2).click()
    # the Units tab is open, with that unit chosen, and its visualization arrives
    s.page.locator("#un-images img").first.wait_for(timeout=120_000)
    assert s.page.locator("#un-channel input").first.input_value() == str(channel)
    facts = s.page.locator("#un-facts")
    facts.get_by_text(re.compile(rf"channel {channel} of 0\.\.207")).first.wait_for()
    assert "branch2" in facts.inner_text()
    s.shot("units-from-branches")
