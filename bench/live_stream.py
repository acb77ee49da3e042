"""A live-camera viewer without a browser: the same HTTP protocol the page's webcam uses (Gradio 6.31).

The browser starts a stream event with ``POST /gradio_api/queue/join`` (its first frame in ``data``), sends each
later frame with ``POST /gradio_api/stream/{event_id}`` and reads every answer from the session's event stream
(``GET /gradio_api/queue/data``, server-sent events, ``process_streaming`` messages); the webcam takes its next frame
on the first tick of its ``stream_every`` timer after the previous answer came. :class:`LiveViewer` does the same, or,
with ``wait_for_answer=False``, sends frames as fast as asked (what the dropping test needs). Used by the benchmark
(bench/sections/live.py) and by tests/webui/test_live_tab.py.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

__all__ = ["jpeg_frame", "frame_payload", "live_fn_index", "Answer", "LiveViewer"]


def jpeg_frame(photo: Path, size: tuple[int, int] = (640, 480), quality: int = 80) -> bytes:
    """A photo as a webcam frame: scaled to cover ``size``, centre-cropped, JPEG (what the browser's canvas sends)."""
    from PIL import Image

    with Image.open(photo) as image:
        image = image.convert("RGB")
        scale = max(size[0] / image.width, size[1] / image.height)
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
        left, top = (image.width - size[0]) // 2, (image.height - size[1]) // 2
        image = image.crop((left, top, left + size[0], top + size[1]))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def frame_payload(jpeg: bytes) -> dict[str, Any]:
    """The webcam's value for one frame: a ``data:image/jpeg;base64`` URL (``Webcam.svelte``: canvas.toDataURL)."""
    return {"url": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii"),
            "meta": {"_type": "gradio.FileData"}}


def live_fn_index(config: dict[str, Any], elem_id: str = "live-camera") -> int:
    """The index of the page's stream event on the component ``elem_id`` (from the page's /config)."""
    ids = {c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id}
    for dependency in config["dependencies"]:
        if any(target[0] in ids and target[1] == "stream" for target in dependency["targets"]):
            return int(dependency["id"])
    raise LookupError(f"no stream event on #{elem_id}")


@dataclass
class Answer:
    """One ``process_streaming`` message: when it came, whether it carried a label, and the label's top class."""

    at: float  # time.monotonic()
    labelled: bool
    top1: Optional[str]
    sent_at: Optional[float] = None  # when the frame it answers was sent (wait_for_answer viewers only)

    @property
    def latency_s(self) -> Optional[float]:
        return None if self.sent_at is None else self.at - self.sent_at


@dataclass
class LiveViewer:
    """One viewer: its own session, one stream event, frames sent over HTTP, answers read from its event stream."""

    url: str  # the app's root URL, ending in "/"
    fn_index: int
    inputs: list[Any]  # the event's other inputs after the frame (the strip checkbox, states as None)
    answers: list[Answer] = field(default_factory=list)
    sent: int = 0
    session_hash: str = field(default_factory=lambda: uuid.uuid4().hex[:11])
    event_id: Optional[str] = None
    _reader: Optional[threading.Thread] = None
    _pending_sent_at: Optional[float] = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _answered: threading.Event = field(default_factory=threading.Event)

    def _api(self, path: str) -> str:
        return f"{self.url}gradio_api/{path}"

    def _body(self, jpeg: bytes) -> dict[str, Any]:
        return {"data": [frame_payload(jpeg), *self.inputs], "fn_index": self.fn_index, "trigger_id": None,
                "session_hash": self.session_hash, "event_data": None}

    def _read(self, client: Any) -> None:
        try:
            self._read_messages(client)
        except Exception as exc:  # noqa: BLE001 - the server closed the stream (the viewer or the app stopped)
            if not self._stop.is_set():
                raise RuntimeError(f"live stream of {self.session_hash} broke") from exc

    def _read_messages(self, client: Any) -> None:
        with client.stream("GET", self._api("queue/data"), params={"session_hash": self.session_hash},
                           timeout=None) as response:
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") not in ("process_streaming", "process_completed"):
                    continue
                output = (message.get("output") or {}).get("data") or [None]
                label = output[0] if isinstance(output[0], dict) and "label" in output[0] else None
                sent_at = self._pending_sent_at
                self.answers.append(Answer(time.monotonic(), label is not None, label and label.get("label"),
                                           sent_at))
                self._answered.set()
                if message.get("msg") == "process_completed":
                    return

    def start(self, client: Any, jpeg: bytes) -> None:
        """Open the stream with its first frame."""
        self._pending_sent_at = time.monotonic()
        response = client.post(self._api("queue/join"), json=self._body(jpeg))
        response.raise_for_status()
        self.event_id = response.json()["event_id"]
        self.sent = 1
        self._reader = threading.Thread(target=self._read, args=(client,), daemon=True)
        self._reader.start()

    def send(self, client: Any, jpeg: bytes) -> None:
        """One more frame (it replaces a frame of this stream that is still waiting, as in the browser)."""
        body = self._body(jpeg) | {"event_id": self.event_id}
        self._answered.clear()
        self._pending_sent_at = time.monotonic()
        client.post(self._api(f"stream/{self.event_id}"), json=body).raise_for_status()
        self.sent += 1

    def run_like_a_browser(self, client: Any, frames: list[bytes], seconds: float, every_s: float) -> None:
        """The webcam's loop: a frame, its answer, then the next tick of the ``every_s`` timer; for ``seconds``."""
        self.start(client, frames[0])
        end = time.monotonic() + seconds
        tick = time.monotonic()
        i = 1
        while time.monotonic() < end:
            if not self._answered.wait(timeout=10):
                break
            now = time.monotonic()
            tick += every_s * max(1, int((now - tick) / every_s) + 1)  # the timer's next tick after the answer
            time.sleep(max(0.0, tick - now))
            self.send(client, frames[i % len(frames)])
            i += 1
        self._answered.wait(timeout=10)

    def close(self, client: Any) -> None:
        self._stop.set()
        if self.event_id is not None:
            try:
                client.post(self._api(f"stream/{self.event_id}/close"))
            except Exception:  # the server may already be gone; the reader thread is a daemon
                pass
