"""Shareable views: a link that reopens the page as someone sees it, so a teacher posts one link and every student
opens the same view.

A view is an example photo, the open tab, and the settings of that tab that the tabs register with
:meth:`webui.page.Page.share` (the module, the attribution method, the lesson's step): query parameters such as
``?photo=chelsea&tab=attributions&module=inception4c&method=saliency``. They are read when the page loads
(``gr.Request.query_params``) and every one is checked: an unknown parameter or value is ignored and the page says
so in a notice, never an error page. Only the example photos can be in a link (an uploaded photo lives in one
browser's session); the "copy link" button writes the link of the view on screen into the address bar and the
clipboard, and shows it for copying by hand where the browser allows no clipboard (plain http on a school network).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence
from urllib.parse import urlencode

import gradio as gr

from googlenet.messages import Message

from .endpoint import endpoint, wire
from .i18n import label, tr
from .page import Page, Shared
from .services import Services

__all__ = ["ShareLinks", "View", "PHOTO", "TAB", "parse_view", "view_query", "COPY_JS"]

log = logging.getLogger(__name__)

PHOTO, TAB = "photo", "tab"

# Runs in the browser after the server wrote the link's query: the full address into the address bar (so a
# reload keeps the view) and onto the clipboard when the browser allows it; the box shows the link either way.
COPY_JS = """
(query) => {
  if (!query) { return query; }
  const url = window.location.origin + window.location.pathname + query;
  try { window.history.replaceState(null, "", url); } catch (e) { console.warn(e); }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(url).catch((e) => console.warn("clipboard:", e));
  }
  return url;
}
"""


@dataclass(frozen=True)
class View:
    """A checked view: parameter -> value, in the order of the link."""

    values: dict[str, Any]
    notices: tuple[Message, ...] = ()


def parse_view(params: Mapping[str, str], photos: Sequence[str], tabs: Sequence[str],
               choices: Mapping[str, Sequence[Any]]) -> View:
    """The view a link asks for. ``photos``: the example photos' names; ``tabs``: the tab ids; ``choices``: for each
    registered parameter, its valid values (compared as text). Anything else becomes a notice and is ignored."""
    known = {PHOTO: list(photos), TAB: list(tabs), **{name: list(values) for name, values in choices.items()}}
    values: dict[str, Any] = {}
    notices: list[Message] = []
    for name, raw in params.items():
        if name not in known:
            notices.append(Message("share.unknown_param", {"name": name, "known": ", ".join(known)}))
            continue
        text = str(raw).strip()
        match = next((value for value in known[name] if str(value) == text), None)
        if match is None:
            notices.append(Message("share.unknown_value", {"name": name, "value": text[:80],
                                                           "known": ", ".join(str(v) for v in known[name])}))
            continue
        values[name] = match
    return View(values, tuple(notices))


def view_query(values: Mapping[str, Any]) -> str:
    """``?photo=...&tab=...``: the query string of a view (empty values left out)."""
    present = {name: str(value) for name, value in values.items() if value not in (None, "")}
    return "?" + urlencode(present) if present else ""


def _digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class ShareLinks:
    """Reads a link when the page loads; the copy-link button. Build the button (:meth:`build`) where it goes on
    the page, then :meth:`wire` once every tab exists."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.photos = {Path(path).stem: path for path in services.examples}
        self._digests: Optional[dict[str, str]] = None  # example photo bytes -> name, hashed on first use
        self.page: Optional[Page] = None
        self.controls: Optional[tuple[gr.Button, gr.Textbox, gr.Markdown]] = None
        self.tab_state: Optional[gr.State] = None

    def tab_ids(self) -> list[str]:
        tabs = self.page.tabs if self.page is not None else None
        return [child.id for child in (tabs.children if tabs is not None else []) if isinstance(child, gr.Tab)]

    def example_name(self, image: Optional[str]) -> Optional[str]:
        """The example photo ``image`` is (by its bytes: the page holds a cached copy), or None."""
        if not image or not Path(image).is_file():
            return None
        if self._digests is None:
            self._digests = {_digest(path): name for name, path in self.photos.items()}
        return self._digests.get(_digest(image))

    def shared(self) -> list[Shared]:
        return list(self.page.shared) if self.page is not None else []

    # --- events ----------------------------------------------------------------------------------------------

    @endpoint()
    def restore(self, request: gr.Request, *, lang: str) -> tuple:
        """The page loaded: apply the view its link asks for (each part checked; a notice for what is ignored)."""
        params = dict(getattr(request, "query_params", None) or {})
        params.pop("__theme", None)  # Gradio's own parameter (light/dark)
        shared = self.shared()
        choices: dict[str, list[Any]] = {}
        for entry in shared:
            choices.setdefault(entry.param, list(entry.choices))
        view = parse_view(params, list(self.photos), self.tab_ids(), choices)
        for notice in view.notices:
            log.info("shared link: %s", notice.text("en"))
            gr.Warning(notice.text(lang), title=tr("common.toast_warning", lang))
        values = view.values
        photo = self.photos[values[PHOTO]] if PHOTO in values else gr.skip()
        tab = values.get(TAB)
        updates: list[Any] = [photo, gr.Tabs(selected=tab) if tab else gr.skip(), tab if tab else gr.skip()]
        for entry in shared:
            value = values.get(entry.param)
            for component in entry.writes:
                if value is None:
                    updates.append(gr.skip())
                elif isinstance(component, gr.Walkthrough):
                    updates.append(gr.Walkthrough(selected=value))
                else:
                    updates.append(value)
        return tuple(updates)

    @endpoint()
    def tab_selected(self, evt: gr.SelectData, *, lang: str) -> Any:
        """Remember the open tab (for the link)."""
        ids = self.tab_ids()
        return ids[evt.index] if isinstance(evt.index, int) and 0 <= evt.index < len(ids) else gr.skip()

    @endpoint()
    def link(self, data: dict, *, lang: str) -> tuple[str, str]:
        """The query of the view on screen: the example photo, the open tab and that tab's shared settings; and a
        note when the photo cannot be in a link (an upload). ``data``: the inputs by component (see :meth:`wire`)."""
        if self.page is None or self.tab_state is None:
            raise RuntimeError("wire the share links first")
        image, tab = data.get(self.page.image), data.get(self.tab_state)
        view: dict[str, Any] = {}
        note = ""
        name = self.example_name(image)
        if name is not None:
            view[PHOTO] = name
        elif image:
            note = f"ℹ️ {tr('share.not_example', lang)}"
        tab = tab if tab in self.tab_ids() else None
        if tab:
            view[TAB] = tab
        for entry in self.shared():
            value = data.get(entry.reads)
            if entry.tab == tab and entry.param not in view and value not in (None, ""):
                view[entry.param] = value
        return view_query(view), note

    # --- layout ----------------------------------------------------------------------------------------------

    def build(self) -> None:
        """The copy-link button and the link (built where they go on the page)."""
        with gr.Group(elem_id="share"):
            button = gr.Button(label("share.copy"), size="sm", elem_id="share-copy")
            link = gr.Textbox(label=label("share.link"), interactive=False, buttons=["copy"],
                              elem_id="share-link", lines=1)
            note = gr.Markdown(elem_id="share-note")
        self.controls = (button, link, note)

    def wire(self, page: Page) -> None:
        """Restore the view on load, track the open tab, and write the link on the button."""
        if self.controls is None or page.tabs is None or page.blocks is None:
            raise RuntimeError("build the share button and the tabs before wiring the share links")
        self.page = page
        button, link, note = self.controls
        self.tab_state = tab_state = gr.State(self.tab_ids()[0] if self.tab_ids() else None)
        shared = self.shared()
        writes = [component for entry in shared for component in entry.writes]
        wire(page.blocks.load, self.restore, None, [page.image, page.tabs, tab_state, *writes])
        wire(page.tabs.select, self.tab_selected, None, tab_state)
        reads = {page.image, tab_state, *(entry.reads for entry in shared)}  # a set: the handler gets a dict
        # the second step runs in the browser only (no Python: address bar and clipboard)
        wire(button.click, self.link, reads, [link, note]).then(
            None, inputs=link, outputs=link, js=COPY_JS)
