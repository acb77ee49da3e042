"""Fixes to Gradio itself, installed explicitly when the app is built (never on import), and only on the Gradio
versions they were checked against.

**Atomic cache writes** (found by bench/load_test.py). Gradio 6.31 names a rendered output image by the hash of its
bytes and REWRITES the file in place on every request (``Path.write_bytes``: truncate, then write). When two users
get the same picture at the same time (a class clicking the same example photo), one user's browser can be
downloading the file while the other request truncates it: the download fails ("Too little data for declared
Content-Length") and the image is missing. Gradio already writes copied files atomically (``save_file_to_cache``);
this does the same for PIL images and bytes. Same signature, same paths; every image output goes through it. It
also encodes WebP with libwebp's fastest method (see :data:`WEBP_OPTIONS`).

**MCP tools with several outputs** (found by tests/webui/test_mcp.py). Gradio 6.31's MCP server answers a tool call
without a progress token with ``[job.result()]``: for an endpoint with several outputs that is ONE tuple, so the
agent gets every output as one Python-repr text and no image as MCP image content (and an endpoint with a
``gr.State`` output fails: "pop index out of range"). With a progress token the same server uses the outputs as a
list, one content item each. :func:`install_mcp_output_fix` makes the other path do the same.
"""

from __future__ import annotations

import inspect
import io
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import processing_utils

__all__ = ["CHECKED_VERSIONS", "WEBP_OPTIONS", "install_atomic_cache_writes", "atomic_cache_writes_installed",
           "install_mcp_output_fix"]

log = logging.getLogger(__name__)

#: Gradio releases whose ``processing_utils`` these replacements were read against (same behaviour, same paths).
CHECKED_VERSIONS: tuple[str, ...] = ("6.31.0",)

# WebP encoder settings for output images: libwebp's fastest method. Gradio's default (method 4, quality 80) took
# 130 ms for one 1240x678 branch figure on a 2-core CPU, about a fifth of the branch view; method 0 at quality 90
# takes 30 ms for a file under 1.5x the size, and keeps figure text sharper.
WEBP_OPTIONS = {"method": 0, "quality": 90}

_ORIGINALS = {"save_pil_to_cache": processing_utils.save_pil_to_cache,
              "save_bytes_to_cache": processing_utils.save_bytes_to_cache}


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees a partial file.

    Gradio's cache is content-addressed (the folder is the hash of the bytes), so an existing file of the right
    size already holds exactly these bytes and is left alone (only touched, so delete_cache ages it from now).
    """
    try:
        if path.stat().st_size == len(data):
            os.utime(path)
            return
    except FileNotFoundError:
        pass
    fd, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(staging, path)  # atomic: readers see the old complete file or the new complete file
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def _encode_pil(img: Any, format: str) -> bytes:
    """Gradio's ``encode_pil_to_bytes``, with the fast WebP settings above (EXIF kept, as Gradio does)."""
    if format.lower() != "webp":
        return processing_utils.encode_pil_to_bytes(img, format)
    with io.BytesIO() as buffer:
        exif = processing_utils.get_pil_exif_bytes(img)
        img.save(buffer, format, **WEBP_OPTIONS, **({"exif": exif} if exif else {}))
        return buffer.getvalue()


def save_pil_to_cache(img: Any, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Gradio's ``save_pil_to_cache`` (same path), written atomically, WebP encoded fast."""
    data = _encode_pil(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / f"{name}.{format}").resolve()
    _write_atomically(path, data)
    return str(path)


def save_bytes_to_cache(data: bytes, file_name: str, cache_dir: str) -> str:
    """Gradio's ``save_bytes_to_cache`` (same path), written atomically."""
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    if not Path(file_name).suffix:
        file_name += processing_utils.detect_audio_format(data)
    path = (folder / Path(file_name).name).resolve()
    _write_atomically(path, data)
    return str(path)


_REPLACEMENTS = {"save_pil_to_cache": save_pil_to_cache, "save_bytes_to_cache": save_bytes_to_cache}


def atomic_cache_writes_installed() -> bool:
    return all(getattr(processing_utils, name) is fn for name, fn in _REPLACEMENTS.items())


def install_atomic_cache_writes() -> bool:
    """Install the replacements (idempotent); True when installed.

    On a Gradio version not in :data:`CHECKED_VERSIONS` they are installed only if Gradio's originals still have
    the signatures they replace; otherwise Gradio's own functions stay and the log says why.
    """
    if atomic_cache_writes_installed():
        return True
    if gr.__version__ not in CHECKED_VERSIONS:
        mismatched = [name for name, fn in _REPLACEMENTS.items()
                      if inspect.signature(_ORIGINALS[name]).parameters.keys() != inspect.signature(fn).parameters.keys()]
        if mismatched:
            log.error("gradio %s changed %s: the atomic cache writes are NOT installed (checked on %s)",
                      gr.__version__, ", ".join(mismatched), ", ".join(CHECKED_VERSIONS))
            return False
        log.warning("gradio %s is newer than the versions the atomic cache writes were checked on (%s); the "
                    "signatures still match, installing them", gr.__version__, ", ".join(CHECKED_VERSIONS))
    for name, fn in _REPLACEMENTS.items():
        setattr(processing_utils, name, fn)
    return True


async def _execute_tool_without_progress(self: Any, job: Any) -> list[Any]:
    """Gradio's ``GradioMCPServer._execute_tool_without_progress``, with a multi-output result as its outputs (a
    gradio_client job returns a tuple exactly when the endpoint has several outputs)."""
    from anyio.to_thread import run_sync

    result = await run_sync(job.result)
    return list(result) if isinstance(result, tuple) else [result]


def install_mcp_output_fix() -> bool:
    """Install the MCP fix above (idempotent), only on the checked Gradio versions; True when installed. Without
    the ``mcp`` package there is no MCP server to fix (False)."""
    try:
        from gradio.mcp import GradioMCPServer
    except ImportError:
        return False
    if GradioMCPServer._execute_tool_without_progress is _execute_tool_without_progress:
        return True
    if gr.__version__ not in CHECKED_VERSIONS:
        log.warning("gradio %s: the MCP multi-output fix was checked on %s only and is not installed",
                    gr.__version__, ", ".join(CHECKED_VERSIONS))
        return False
    GradioMCPServer._execute_tool_without_progress = _execute_tool_without_progress
    return True
