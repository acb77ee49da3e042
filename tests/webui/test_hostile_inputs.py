"""Hostile and odd inputs, limits and exposure, against a launched app (gradio_client and plain HTTP).

Every corpus file (tests/hostile_corpus.py, generated here) gets its expected result or its expected message, the
server keeps serving, a decompression bomb does not grow the server's memory, no file outside the app's own
cache is served, oversize uploads get HTTP 413, and a quick run of bench/load_test.py passes.
"""

from __future__ import annotations

import base64
import json
import os
import re
import string
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from support import ROOT
from support.hostile_corpus import Case, build_cases, encode, photo
from webui.i18n import tr

CASES = build_cases()


def message_pattern(key: str, lang: str = "en") -> re.Pattern:
    """The translated text for ``key`` with every {placeholder} matching anything."""
    template = tr(key, lang)
    parts = [re.escape(literal) + (".+?" if name else "") for literal, name, _, _ in string.Formatter().parse(template)]
    return re.compile("^" + "".join(parts) + "$", re.S)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for case in CASES:
        case.write(folder)
    return folder


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_file_through_the_app(client, corpus_dir, case: Case):
    path = corpus_dir / case.name
    if case.error is not None:
        with pytest.raises(Exception) as info:
            client.predict(handle_file(str(path)), api_name="/classify")
        message = str(info.value)
        assert message_pattern(case.error).match(message), message
        assert "Traceback" not in message and str(ROOT) not in message
        return
    top5, crop, summary, raw = client.predict(handle_file(str(path)), True, api_name="/classify")
    assert len(raw["top"]) == 5 and len(top5["confidences"]) == 5
    with Image.open(crop) as image:
        assert image.size == (224, 224)
    assert set(raw["notices"]) == set(case.notices)
    for key in case.notices:
        assert re.search(message_pattern(key).pattern.strip("^$"), summary), summary


def test_server_still_serves_after_the_corpus(app_process, corpus_dir):
    client = app_process.client()
    for case in CASES:  # everything once more, back to back
        try:
            client.predict(handle_file(str(corpus_dir / case.name)), api_name="/classify")
        except Exception:  # noqa: BLE001 - the expected messages are checked above; here only survival matters
            pass
    assert app_process.process.poll() is None
    *_, raw = client.predict(handle_file(str(ROOT / "assets" / "chelsea.png")), api_name="/classify")
    assert len(raw["top"]) == 5


def test_messages_follow_the_browser_language(app_server, corpus_dir):
    korean = Client(app_server.url, verbose=False, headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
    with pytest.raises(Exception) as info:
        korean.predict(handle_file(str(corpus_dir / "bomb.png")), api_name="/classify")
    assert message_pattern("errors.too_many_pixels", "ko").match(str(info.value)), str(info.value)
    assert "20000x20000" in str(info.value)


def test_rotated_phone_photo_is_classified_upright(client, corpus_dir, tmp_path):
    upright_path = tmp_path / "upright.jpg"
    upright_path.write_bytes(encode(photo(), "JPEG"))
    sideways_path = tmp_path / "sideways.jpg"
    sideways_path.write_bytes(encode(photo().transpose(Image.Transpose.ROTATE_90), "JPEG"))

    def crop_of(path: Path) -> np.ndarray:
        crop = client.predict(handle_file(str(path)), True, api_name="/classify")[1]
        with Image.open(crop) as image:
            return np.asarray(image.convert("RGB"), dtype=np.float32)

    rotated, upright, sideways = crop_of(corpus_dir / "rotated.jpg"), crop_of(upright_path), crop_of(sideways_path)
    assert np.abs(rotated - upright).mean() < 6.0  # JPEG noise only
    assert np.abs(sideways - upright).mean() > 15.0  # ignoring the EXIF tag would look like this


MEMORY_BOUND = 150 * 2**20  # a full decode of the 120 MP JPEG would take 475 MB; of the 400 MP bomb, 1.6 GB


def write_camera_jpeg(path: Path, size: tuple[int, int]) -> Path:
    """A baseline 4:2:0 JPEG of ``size`` (the photo, enlarged), written by a short-lived process so that the
    test process never holds the full-size image."""
    code = ("import sys; from PIL import Image; w, h = int(sys.argv[2]), int(sys.argv[3]); "
            "small = Image.open(sys.argv[4]).convert('RGB').resize((w // 8, h // 8)); "
            "small.resize((w, h), Image.Resampling.BILINEAR).save(sys.argv[1], quality=85)")
    subprocess.run([sys.executable, "-c", code, str(path), str(size[0]), str(size[1]), str(ROOT / "assets" / "chelsea.png")],
                   check=True, timeout=300)
    return path


class PeakMemory:
    """The server's peak RSS above its resident size at the start, measured by the kernel (Linux: VmHWM, reset
    through /proc/PID/clear_refs), so a short spike between two samples is not missed."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def _status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no {field} in /proc/{self.pid}/status")

    def __enter__(self) -> "PeakMemory":
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # reset the high-water mark to the current RSS
        self.start = self._status("VmRSS")
        return self

    def __exit__(self, *exc) -> None:
        self.growth = self._status("VmHWM") - self.start


def test_camera_jpeg_classifies_and_the_bomb_is_refused_within_one_memory_bound(app_process, tmp_path, corpus_dir):
    """A 120 MP camera JPEG (over Pillow's own 89 MP warning and our old 50 MP limit) is classified, decoded at 1/8
    scale; the 400 MP PNG bomb is refused from its header. Both within the same bound on the server's peak."""
    if not Path(f"/proc/{app_process.pid}/clear_refs").exists():
        pytest.skip("needs Linux's /proc/PID/clear_refs to measure the server's peak memory")
    client = app_process.client()
    big = write_camera_jpeg(tmp_path / "camera-120mp.jpg", (13416, 8944))
    assert big.stat().st_size < 50 * 2**20  # under the upload limit
    client.predict(handle_file(str(ROOT / "assets" / "chelsea.png")), api_name="/classify")  # warm
    # Not warmed with the large file itself: memory freed after a first large decode would be reused by a second
    # one without growing the process, and the check could no longer fail.
    with PeakMemory(app_process.pid) as jpeg:
        top5, crop, summary, raw = client.predict(handle_file(str(big)), True, api_name="/classify")
    assert len(raw["top"]) == 5
    with Image.open(crop) as image:
        assert image.size == (224, 224)
    with PeakMemory(app_process.pid) as bomb:
        for _ in range(3):
            for name in ("bomb.png", "wide-bomb.png", "bomb.jpg"):
                with pytest.raises(Exception) as info:
                    client.predict(handle_file(str(corpus_dir / name)), api_name="/classify")
                assert message_pattern("errors.too_many_pixels").match(str(info.value)), str(info.value)
    print(f"peak above start: 120 MP JPEG {jpeg.growth / 2**20:.0f} MB, bombs {bomb.growth / 2**20:.0f} MB")
    assert jpeg.growth < MEMORY_BOUND, f"the 120 MP JPEG took {jpeg.growth / 2**20:.0f} MB at its peak"
    assert bomb.growth < MEMORY_BOUND, f"the bombs took {bomb.growth / 2**20:.0f} MB at their peak"


@pytest.mark.parametrize("target", ["/etc/passwd", "{root}/app.py", "app.py", "{root}/assets/README.md",
                                    "../../../../etc/passwd", "%2Fetc%2Fpasswd"])
def test_no_file_outside_the_cache_is_served(app_server, target):
    url = app_server.url + "gradio_api/file=" + target.format(root=ROOT)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    assert status in (403, 404), f"{url} -> {status}"
    assert b"root:" not in body and b"import gradio" not in body


def test_only_the_example_photos_are_served_from_assets(app_server):
    """A shared link puts an example photo into the photo input, so the example photos (public: assets/README.md)
    are served on purpose; nothing else of assets/ is (the README case above)."""
    with urllib.request.urlopen(app_server.url + "gradio_api/file=" + str(ROOT / "assets" / "chelsea.png"),
                                timeout=10) as response:
        assert response.status == 200 and response.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("target", ["/etc/passwd", "{root}/app.py"])
def test_api_refuses_paths_it_did_not_receive(app_server, target):
    """A raw API call naming a server-side file (never uploaded) must fail without echoing the file."""
    path = target.format(root=ROOT)
    with httpx.Client(base_url=app_server.url, timeout=30) as http:
        event = http.post("gradio_api/call/classify",
                          json={"data": [{"path": path, "meta": {"_type": "gradio.FileData"}}]}).json()
        stream = http.get(f"gradio_api/call/classify/{event['event_id']}").text
    assert "event: error" in stream
    assert "root:" not in stream and "import gradio" not in stream and "Traceback" not in stream


def test_oversize_upload_gets_http_413(app_server):
    with httpx.Client(base_url=app_server.url, timeout=60) as http:
        response = http.post("gradio_api/upload", files={"files": ("big.jpg", b"\xff" * (51 * 2**20), "image/jpeg")})
    assert response.status_code == 413
    small = httpx.post(app_server.url + "gradio_api/upload", files={"files": ("ok.png", encode(photo(), "PNG"))},
                       timeout=60)
    assert small.status_code == 200  # the limit is a limit, not a broken route


def test_app_binds_to_loopback_only(app_process):
    server = psutil.Process(app_process.pid)
    listening = [c.laddr for c in server.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening and all(address.ip in ("127.0.0.1", "::1") for address in listening), listening


def test_debug_endpoint_is_off_by_default(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert "/classify" in endpoints and not any(name.startswith("/debug") for name in endpoints)


# --- the web UI's pieces, in process --------------------------------------------------------------------------------


def test_photo_input_hands_over_the_file_undecoded(tmp_path):
    from gradio.data_classes import ImageData

    from webui.components import PhotoInput

    bomb = next(c for c in CASES if c.name == "bomb.png")
    path = bomb.write(tmp_path)
    component = PhotoInput(type="filepath")
    assert component.get_block_name() == "image"
    assert component.preprocess(ImageData(path=str(path), orig_name="bomb.png")) == str(path)
    data_url = "data:image/png;base64," + base64.b64encode(bomb.data).decode()
    saved = component.preprocess(ImageData(url=data_url))
    assert Path(saved).read_bytes() == bomb.data and saved.endswith(".png")
    assert component.preprocess(None) is None


def test_limits_per_device_and_heavy_group():
    import gradio as gr

    from webui.limits import HEAVY, Limits, apply_limits

    cpu, gpu = Limits.for_device("cpu"), Limits.for_device("cuda")
    assert (cpu.light, cpu.heavy) == (2, 1) and (gpu.light, gpu.heavy) == (8, 2)
    with gr.Blocks() as blocks:
        box = gr.Textbox()
        box.submit(lambda x: x, box, box, api_name="light_one")
        box.change(lambda x: x, box, box, api_name="heavy_one", concurrency_id=HEAVY)
    apply_limits(blocks, cpu)
    limits = {fn.api_name: fn.concurrency_limit for fn in blocks.fns.values()}
    assert limits == {"light_one": "default", "heavy_one": 1}
    assert blocks._queue.default_concurrency_limit == 2 and blocks._queue.max_size == 64


def test_default_host(monkeypatch, app_server):
    from webui.limits import DELETE_CACHE
    from webui.settings import default_host

    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert default_host() == "127.0.0.1"
    monkeypatch.setenv("SPACE_ID", "someone/googlenet-explorer")
    assert default_host() == "0.0.0.0"
    assert app_server.app.demo.delete_cache == DELETE_CACHE


# --- the load test, quick mode ----------------------------------------------------------------------------------


def test_quick_load_test(tmp_path, weights_file):
    report_path = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "GOOGLENET_", "SPACE"))}
    env.update(TORCH_HOME=str(tmp_path / "torch_home"), GOOGLENET_NO_DOWNLOAD="1",
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load_test.py"), "--quick", "--weights", str(weights_file),
         "--json", str(report_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["requests"] > 0 and report["errors"] == 0 and report["crosstalk"] == 0
    assert report["endpoints"]["/classify"]["crosstalk"] == 0  # checked, not skipped
    assert report["model_state"] == "identical"
    assert report["fingerprint_before"]["fast"]["sha256"] == report["fingerprint_after"]["fast"]["sha256"]


def test_load_test_refuses_non_loopback():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "load_test.py"), "--url", "http://example.com/"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "loopback" in (done.stdout + done.stderr)


def test_crosstalk_detector_can_fail():
    from bench.load_test import close_enough

    a = [(281, 0.5), (282, 0.2)]
    assert close_enough(a, [(281, 0.50001), (282, 0.2)])
    assert not close_enough(a, [(282, 0.5), (281, 0.2)])
    assert not close_enough(a, [(281, 0.6), (282, 0.2)])


def test_cache_writes_are_atomic_and_content_addressed(tmp_path):
    """Same output image for two users at once: the cached file is never truncated under a reader."""
    from gradio import image_utils, processing_utils

    from webui import gradio_fixes

    assert gradio_fixes.install_atomic_cache_writes()  # what building the app does (idempotent)
    assert processing_utils.save_pil_to_cache is gradio_fixes.save_pil_to_cache
    picture = photo((64, 48))
    first = image_utils.save_image(picture, str(tmp_path))  # the route Gradio's Image.postprocess takes
    complete = Path(first).read_bytes()
    inode = os.stat(first).st_ino
    assert processing_utils.save_pil_to_cache(picture, str(tmp_path)) == first
    assert os.stat(first).st_ino == inode  # an existing complete copy is not rewritten
    Path(first).write_bytes(complete[:10])  # a torn file (e.g. from a crash) is replaced whole
    processing_utils.save_pil_to_cache(picture, str(tmp_path))
    assert Path(first).read_bytes() == complete
    assert not [p for p in Path(first).parent.iterdir() if p.name.startswith(".")]  # no staging leftovers
