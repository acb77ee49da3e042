"""GoogLeNet Explorer: the entry point. ``python app.py --help`` lists the options.

Settings come from the environment, then the command line; the app is built from them and launched. Importing this
module builds nothing: ``app.demo`` (what Hugging Face Spaces and ``gradio app.py`` look for) builds the page from
the environment's settings the first time it is read.
"""

from __future__ import annotations

# First: on Hugging Face ZeroGPU, `spaces` must be imported before torch, which the rest of webui imports.
import webui.zerogpu  # noqa: F401  isort: skip

import logging
from typing import Any, Optional, Sequence

from webui.server import create_app
from webui.settings import Settings

__all__ = ["main"]  # and `demo`, built on first access (__getattr__ below)


def main(argv: Optional[Sequence[str]] = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(Settings.from_env().with_argv(argv))
    globals()["demo"] = app.demo  # what `gradio app.py`'s reloader looks for in this module
    app.launch()


def __getattr__(name: str) -> Any:
    # `demo` on first access (PEP 562), from the environment's settings: Spaces and `gradio app.py` import it.
    if name == "demo":
        demo = create_app(Settings.from_env()).demo
        globals()["demo"] = demo
        return demo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
