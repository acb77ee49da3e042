"""What the tabs share on the page: the photo, the example photos, and the pieces other tabs read (the report
takes the branch overview and the attribution figure that the user is looking at)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import gradio as gr

from googlenet.images import ImageNotice
from googlenet.messages import KeyedError

from .i18n import tr
from .services import Services
from .zerogpu import Ran

__all__ = ["Page", "MissingPhoto", "require_image", "notices_text", "cpu_note"]


@dataclass
class Page:
    """Components that several tabs share. The tabs set the optional ones as they are built."""

    services: Services
    image: gr.Image
    examples: Optional[gr.Examples] = None
    branch_overview: Optional[gr.Image] = None  # set by the branches tab, read by the report
    attribution_figure: Optional[gr.Image] = None  # set by the attributions tab, read by the report
    tabs: Optional[gr.Tabs] = None  # the tabs, to open one from another (a click on a unit opens the Units tab)
    branch_top_channels: Optional[gr.Dataframe] = None  # set by the branches tab: a click picks that unit
    # the listener of the Classify tab's last event for a new photo (its top-5, then its details): the other tabs
    # start their work on the photo after it, so the first answer has the CPU to itself
    after_first_answer: Optional[Callable[..., Any]] = None

    @property
    def photo_changed(self) -> Callable[..., Any]:
        """The listener for "a new photo is on the page" that tabs other than Classify attach their work to."""
        return self.after_first_answer or self.image.change


class MissingPhoto(KeyedError, ValueError):
    """An event that needs the photo ran without one."""


def require_image(image: Optional[str]) -> str:
    """The photo's path, or a clear "upload a photo first" in the reader's language."""
    if not image:
        raise MissingPhoto("common.no_image")
    return image


def notices_text(notices: Sequence[ImageNotice], lang: str) -> str:
    """Notices about an input that loaded fine (animated, tiny, elongated), one Markdown line each."""
    return "".join(f"\n\nℹ️ {notice.text(lang)}" for notice in notices)


def cpu_note(ran: Ran, lang: str, *, toast: bool = True) -> str:
    """"" when the answer came from where it was asked. When ZeroGPU gave no GPU and the CPU answered instead: a
    warning toast (``toast``) and a Markdown line for the answer's text, both saying why."""
    notice = ran.notice()
    if notice is None:
        return ""
    text = notice.text(lang)
    if toast:
        gr.Warning(text, title=tr("common.toast_warning", lang))
    return f"\n\n⚠️ {text}"
