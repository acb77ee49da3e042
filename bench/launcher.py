"""Starting the real app for the tests, the load test and the benchmark: one launcher, two ways.

- :func:`launched_app`: ``python app.py`` in a subprocess on 127.0.0.1 and a free port, with a private Gradio cache
  and torch home, downloads off; what needs a separate process (its memory measured, its environment set, its
  start-up timed, a stand-in ``spaces`` package on its path) uses this.
- :func:`in_process_app`: the same app built by ``webui.server.create_app`` and launched in this process
  (``prevent_thread_lock=True``): no start-up of a new interpreter, so API tests are fast.

Both yield a :class:`Server`, and stop what they started.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Optional, Sequence

if TYPE_CHECKING:
    from webui.server import App
    from webui.settings import Settings

__all__ = ["ROOT", "Server", "free_port", "launched_app", "in_process_app", "wait_until_up"]

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running app: where it answers, and what it logs."""

    url: str
    pid: int  # the serving process (this one for an in-process app)
    cache_dir: Optional[Path] = None  # Gradio's file cache (subprocess apps: a private folder)
    process: Optional[subprocess.Popen] = None
    log_path: Optional[Path] = None
    app: Optional["App"] = None  # the in-process app
    _log_buffer: Optional[io.StringIO] = None

    def log(self) -> str:
        if self.log_path is not None:
            return self.log_path.read_text(errors="replace")
        return self._log_buffer.getvalue() if self._log_buffer is not None else ""

    def client(self, **kwargs: Any) -> Any:
        from gradio_client import Client

        return Client(self.url, verbose=False, **kwargs)


def wait_until_up(url: str, timeout: float, process: Optional[subprocess.Popen] = None,
                  log_path: Optional[Path] = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            log = log_path.read_text(errors="replace") if log_path else ""
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log[-4000:]}")
        try:
            with urllib.request.urlopen(url + "gradio_api/info", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            log = log_path.read_text(errors="replace") if log_path else ""
            raise RuntimeError(f"the app did not answer within {timeout:.0f} s:\n{log[-4000:]}")
        time.sleep(0.3)


@contextlib.contextmanager
def launched_app(work: Path, weights: Optional[str | os.PathLike] = None, *, device: Optional[str] = None,
                 extra_args: Sequence[str] = (), extra_env: Optional[Mapping[str, str]] = None,
                 debug_endpoints: bool = False, isolated: bool = True, host: Optional[str] = "127.0.0.1",
                 script: Path = ROOT / "app.py", timeout: float = 240.0) -> Iterator[Server]:
    """``python app.py`` on 127.0.0.1 and a free port; stopped afterwards.

    The child gets a private Gradio cache and no analytics; ``GOOGLENET_*``, ``GRADIO_*`` and Spaces variables of
    this process do not leak into it. ``isolated`` (tests): also a private torch home and no downloads, so it never
    sees the user's cached weights; off (the load test), it resolves weights as the app does on this machine.
    ``host`` None: no ``--host`` (the app picks its default, e.g. 0.0.0.0 under Spaces' variables); it is reached
    on 127.0.0.1 either way. ``script``: another app with the same ``--host``/``--port`` options (the benchmark's
    bench/floor_app.py).
    """
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cache = work / f"gradio-cache-{script.stem}-{port}"
    cache.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "GOOGLENET_", "SPACE"))}
    if isolated:
        env.update(TORCH_HOME=str(work / "torch_home"), GOOGLENET_NO_DOWNLOAD="1")
    env.update(
        GRADIO_TEMP_DIR=str(cache),
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"),
    )
    if debug_endpoints:
        env["GOOGLENET_DEBUG_ENDPOINTS"] = "1"
    env.update(extra_env or {})
    args = [sys.executable, str(script), "--port", str(port)] + (["--host", host] if host else [])
    if weights:
        args += ["--weights", str(weights)]
    if device:
        args += ["--device", device]
    args += list(extra_args)
    log_path = work / f"{script.stem}-{port}.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, timeout, process, log_path)
        yield Server(url=url, pid=process.pid, cache_dir=cache, process=process, log_path=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def in_process_app(settings: "Settings") -> Iterator[Server]:
    """The app built from ``settings`` and served from this process on 127.0.0.1 and a free port.

    Its log lines (every logger's, while it runs) are kept for :meth:`Server.log`.
    """
    from webui.server import create_app

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    app = None
    try:
        app = create_app(replace(settings, host="127.0.0.1", port=free_port(), inbrowser=False, share=False))
        app.launch(prevent_thread_lock=True, quiet=True)
        wait_until_up(app.url, 60.0)
        yield Server(url=app.url, pid=os.getpid(), app=app, _log_buffer=buffer)
    finally:
        if app is not None:
            app.close()
        root.removeHandler(handler)
        root.setLevel(previous_level)
