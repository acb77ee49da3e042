"""Building the app from settings and launching it: what ``app.py`` calls, and what the tests and bench/ use to run
the real app in their own process.

Order matters and is fixed here: Gradio fixes and the figure style are installed, the shared objects are built from
the final settings (loading the weights: fail fast), the page is built from them, the limits for the device are
applied, then it launches.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import partial
from typing import Any, Optional

import gradio as gr
from starlette.middleware import Middleware

from googlenet.integrity import engine_fingerprints
from googlenet.memory import limit_arenas
from googlenet.render import use_style_globally

from .endpoint import endpoint
from .gradio_fixes import install_atomic_cache_writes, install_mcp_output_fix
from .i18n import i18n
from .layout import build_page, css
from .limits import apply_limits, classify_batching
from .services import Services, example_photos
from .settings import Settings
from .tabs.classify import prefetch_upload
from .upload_prefetch import Prefetcher, UploadWatch
from .zerogpu import ZEROGPU

__all__ = ["App", "create_app", "launch_options"]

log = logging.getLogger(__name__)


class _Debug:
    def __init__(self, services: Services) -> None:
        self.services = services

    @endpoint()
    def fingerprint(self, *, lang: str) -> dict:
        """Hashes and mode/hook counts of the shared models (only with GOOGLENET_DEBUG_ENDPOINTS=1; bench/)."""
        return engine_fingerprints(self.services.engine)


def apply_analytics(settings: Settings) -> None:
    """Gradio's telemetry follows the settings (off unless GRADIO_ANALYTICS_ENABLED=True): classrooms are often
    offline and the app must not call home. Gradio reads the variable whenever it is about to send something
    (``gradio/analytics.py`` ``analytics_enabled()``: each Blocks built, each launch), so it is set before the page
    is built; ``gr.Blocks(analytics_enabled=...)`` gets the same value."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "True" if settings.analytics else "False"


@dataclass
class App:
    """A built, not yet launched app: its settings, shared objects and page."""

    settings: Settings
    services: Services
    demo: gr.Blocks
    prefetcher: Optional[Prefetcher] = None  # uploads start their first answer (webui/upload_prefetch.py)

    def launch(self, **overrides: Any) -> Any:
        """``demo.launch`` with the options the settings call for (``overrides`` win, e.g.
        ``prevent_thread_lock=True`` to serve from a background thread)."""
        options = {**launch_options(self.settings), **overrides}
        if self.prefetcher is not None:  # Gradio passes app_kwargs to its FastAPI app: our middleware innermost
            app_kwargs = dict(options.get("app_kwargs") or {})
            app_kwargs["middleware"] = [*app_kwargs.get("middleware", []),
                                        Middleware(UploadWatch, on_upload=self.prefetcher)]
            options["app_kwargs"] = app_kwargs
        return self.demo.launch(**options)

    @property
    def url(self) -> str:
        return self.demo.local_url or f"http://{self.settings.host}:{self.settings.port}/"

    def close(self) -> None:
        self.demo.close()
        if self.prefetcher is not None:
            self.prefetcher.close()


def create_app(settings: Settings) -> App:
    """Everything but the launch. Raises on unusable weights (see :class:`Services`)."""
    limit_arenas(2)  # before Gradio starts its worker threads (see googlenet/memory.py)
    apply_analytics(settings)
    install_atomic_cache_writes()
    use_style_globally()  # figures are drawn in several threads at once (see googlenet/render/figures.py)
    services = Services(settings)
    demo = build_page(services)
    if settings.debug_endpoints:  # off by default: only the load test turns it on
        with demo:  # callable by name, but not in the API docs nor an MCP tool
            gr.api(_Debug(services).fingerprint, api_name="debug_model_fingerprint", api_visibility="undocumented")
    if ZEROGPU:
        log.info("ZeroGPU: GPU work runs under spaces.GPU")
    if settings.mcp_server:
        install_mcp_output_fix()
        log.info("MCP: the public endpoints are tools at /gradio_api/mcp/ (schema: /gradio_api/mcp/schema)")
    apply_limits(demo, services.limits)
    # Not under ZeroGPU (its GPU only serves queued events) nor with dynamic batching (the batch is one pass).
    prefetcher = None if ZEROGPU or classify_batching(settings) else Prefetcher(partial(prefetch_upload, services))
    if prefetcher is None:
        log.info("uploads: not prefetched (%s)", "ZeroGPU" if ZEROGPU else "dynamic batching")
    else:
        log.info("uploads: each photo's first answer starts at its upload")
    log.info("binding %s:%d", settings.host, settings.port)
    return App(settings, services, demo, prefetcher)


def launch_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``Blocks.launch`` for these settings."""
    return dict(
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,  # a public gradio.live link only when asked for
        inbrowser=settings.inbrowser,
        show_error=False,  # internal exception texts and paths never reach clients (gr.Error messages still do)
        max_file_size=f"{settings.max_upload_mb}mb",
        run_history=False,  # else each browser keeps every photo and result (shared classroom machines)
        mcp_server=settings.mcp_server,
        i18n=i18n(),
        # the example photos alone (not the rest of assets/): a shared link puts one into the photo input
        allowed_paths=example_photos(),
        css=css(),
    )
