"""Export report (in the Classify tab) and ``/report``: a one-page PNG/PDF of the photo's analysis."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import gradio as gr

from googlenet.messages import KeyedError
from googlenet.render.report import REPORT_FORMATS, ReportPieces, ReportText, render_report

from ..endpoint import endpoint, wire
from ..i18n import label, tr
from ..page import Page, require_image
from ..services import Services
from .classify import classify_on_device

__all__ = ["ReportPanel", "ReportFormatError", "REPORTS_DIR"]

log = logging.getLogger(__name__)

REPORTS_DIR = Path(tempfile.gettempdir()) / "googlenet-explorer-reports"
REPORT_MAX_AGE_S = 3600.0


class ReportFormatError(KeyedError, ValueError):
    """A report format other than PNG or PDF."""


def _new_report_path(stem: str, fmt: str) -> Path:
    """A fresh folder per report (so the download keeps a readable name); reports older than an hour go."""
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in REPORTS_DIR.iterdir():
        try:
            if now - old.stat().st_mtime > REPORT_MAX_AGE_S:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:  # another request removed it first
            pass
    folder = Path(tempfile.mkdtemp(dir=REPORTS_DIR))
    safe_stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:60] or "photo"
    return folder / f"googlenet-report-{safe_stem}.{fmt}"


class ReportPanel:
    """The format choice, the button and the file; wired once every tab exists (:meth:`wire`)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.controls: Optional[tuple[gr.Radio, gr.Button, gr.File]] = None

    @endpoint(trims_memory=True)
    def export(self, image: Optional[str], fmt: Optional[str] = "png", branch_overview: Any = None,
               attribution: Any = None, attribution_caption: Optional[str] = None, *, lang: str) -> str:
        """A one-page report of a photo's analysis by GoogLeNet, as a PNG or PDF file: the top-5, the crop the
        network saw, the weights' status, and (from the page) the branch overview and the attribution figure.

        Args:
            image: The photo (JPEG, PNG, WebP, HEIC/HEIF, AVIF, BMP, TIFF, GIF or ICO).
            fmt: The file format: png or pdf.
            branch_overview: An overview image to include (the page passes the one it shows); none: "not computed".
            attribution: An attribution figure to include (the page passes the one it shows); none: "not computed".
        Returns:
            The report file.
        """
        # The prediction is recomputed here (one fast forward pass), so the endpoint also works on its own.
        path = require_image(image)
        fmt = (fmt or "png").strip().lower()
        if fmt not in REPORT_FORMATS:
            raise ReportFormatError("report.bad_format", fmt=fmt)
        result = self.services.on_device(classify_on_device, path).value
        pieces = ReportPieces(
            top=result.top,
            crop=result.crop,
            weights=result.weights.message.text(lang),
            weights_warning=tr("weights.untrained", lang) if result.weights.warning else None,
            device=result.device,
            photo_name=Path(path).name,
            branch_overview=branch_overview,
            attribution=attribution,
            attribution_caption=attribution_caption,
        )
        out = _new_report_path(Path(path).stem, fmt)
        out.write_bytes(render_report(pieces, ReportText.load(lang), fmt=fmt))
        log.info("report written: %s", out)
        return str(out)

    def build(self, page: Page) -> None:
        with gr.Row(equal_height=True, elem_id="report-row"):
            with gr.Column(scale=2, min_width=240):
                gr.Markdown(label("report.explain"))
                fmt = gr.Radio(choices=[("PNG", "png"), ("PDF", "pdf")], value="png",
                               label=label("report.format"), elem_id="report-format")
                button = gr.Button(label("report.button"), variant="secondary", elem_id="report-button")
            report_file = gr.File(label=label("report.file"), interactive=False, elem_id="report-file", scale=1,
                                  min_width=240)
        self.controls = (fmt, button, report_file)

    def wire(self, page: Page) -> None:
        """The button takes the branch overview and the attribution figure the user is looking at."""
        if self.controls is None:
            raise RuntimeError("build the report panel before wiring it")
        fmt, button, report_file = self.controls
        extras = [c for c in (page.branch_overview, page.attribution_figure) if c is not None]
        wire(button.click, self.export, [page.image, fmt, *extras], report_file, api_name="report")
