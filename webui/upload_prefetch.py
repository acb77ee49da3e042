"""Work on a photo starts when it is uploaded, not when an event asks for it.

Every client sends a photo in two requests: the upload (``POST /gradio_api/upload``, answered with the file's path
on the server), then the event that names that path (``/classify``'s queue join, the page's change event). Between
the two the server waits for the client: gradio_client builds a new HTTP client (and its SSL context) for the join,
~22 ms on the 2-core CPU, then the queue's round trip follows (docs/performance.md). :class:`UploadWatch`, a plain
ASGI middleware, sees each upload's answer, and :class:`Prefetcher` starts the photo's first answer at once in a
background thread, into the shared :class:`~webui.first_answers.FirstAnswers` by the photo's digest; the event that
follows finds the result, or waits for the computation in flight. Still one forward pass per photo.

Bounded, because it runs before anyone asked: one file per upload only (the page and gradio_client send one photo
per upload); one prefetch at a time (an upload arriving meanwhile is not prefetched: its own event computes), and
only while a quick slot is free (``Limits.quick``, shared with the page's quick path); the photo is decoded with the
same limits as every other. A file the engine refuses costs what its checks cost before refusing, and the event that
names it tells its reader why, in their language. Not under ZeroGPU (its GPU only serves queued events) nor with dynamic batching (the
batched ``/classify`` computes its batch in one pass).
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, MutableMapping

__all__ = ["UploadWatch", "Prefetcher", "PrefetchCounts", "UPLOAD_PATH"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_PATH = "/gradio_api/upload"
# An upload's answer is a JSON list of server paths: a few hundred bytes per file. Anything longer is not one photo.
_MAX_ANSWER_BYTES = 16 * 1024


class UploadWatch:
    """ASGI middleware: after each successful ``POST …/gradio_api/upload`` of ONE file, ``on_upload(path)`` with the
    path Gradio answered (called on the event loop: it must return at once). Every other request, and the upload's
    own answer, pass through unchanged."""

    def __init__(self, app: ASGIApp, on_upload: Callable[[str], None], path: str = UPLOAD_PATH) -> None:
        self.app, self.on_upload, self.path = app, on_upload, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not scope.get("path", "").endswith(self.path):
            await self.app(scope, receive, send)
            return
        status = 0
        body = bytearray()

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status == 200 and len(body) <= _MAX_ANSWER_BYTES:
                body.extend(message.get("body", b""))
            await send(message)  # the client's answer first: what follows must not delay it
            if message["type"] == "http.response.body" and not message.get("more_body", False) and status == 200:
                self._answered(bytes(body))

        await self.app(scope, receive, watched)

    def _answered(self, body: bytes) -> None:
        if len(body) > _MAX_ANSWER_BYTES:
            return
        try:
            paths = json.loads(body)
        except ValueError:
            log.warning("upload answer is not JSON (%d bytes): nothing prefetched", len(body))
            return
        if isinstance(paths, list) and len(paths) == 1 and isinstance(paths[0], str):
            self.on_upload(paths[0])


@dataclass(frozen=True)
class PrefetchCounts:
    """What the prefetcher has done since the server started."""

    started: int  # uploads whose first answer was started at once
    skipped: int  # uploads that arrived while a prefetch ran (their own event computes)
    failed: int  # prefetches that ended in an unexpected error (logged with its traceback)


class Prefetcher:
    """Runs ``prefetch(path)`` for an uploaded file in ONE background thread, never queueing: an upload that arrives
    while a prefetch runs is skipped. ``prefetch`` handles the photos it refuses itself (see
    :func:`webui.tabs.classify.prefetch_upload`); anything else it raises is logged here, never passed on (nobody
    waits for a prefetch: the event that names the photo computes and reports for itself)."""

    def __init__(self, prefetch: Callable[[str], None]) -> None:
        self._prefetch = prefetch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-prefetch")
        self._running = threading.Lock()
        self._counts_lock = threading.Lock()
        self._started = self._skipped = self._failed = 0

    def counts(self) -> PrefetchCounts:
        with self._counts_lock:
            return PrefetchCounts(self._started, self._skipped, self._failed)

    def __call__(self, path: str) -> None:
        if not self._running.acquire(blocking=False):
            with self._counts_lock:
                self._skipped += 1
            return
        with self._counts_lock:
            self._started += 1
        try:
            self._executor.submit(self._run, path)
        except RuntimeError:  # shut down: the server is stopping
            self._running.release()
            raise

    def _run(self, path: str) -> None:
        try:
            self._prefetch(path)
        except Exception:  # noqa: BLE001 - background work: logged with its traceback, the event computes anew
            log.exception("upload prefetch of %s failed", path)
            with self._counts_lock:
                self._failed += 1
        finally:
            self._running.release()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
