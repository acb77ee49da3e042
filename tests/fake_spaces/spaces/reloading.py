"""Stand-in for ``spaces.reloading``: Gradio starts Spaces' hot-reload server on Spaces; here it does nothing."""

from __future__ import annotations

import threading
from typing import Callable


def start_reload_server(prerun: Callable[..., object], postrun: Callable[..., object],
                        stop_event: threading.Event) -> None:
    stop_event.wait()
