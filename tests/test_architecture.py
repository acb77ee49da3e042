"""The layout's rules, checked on the code (see docs/architecture.md): no import cycle among the project's modules,
only ``webui`` imports gradio, no module over 600 lines, a thin ``app.py``, and importing ``app`` does nothing."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT

PACKAGES = ("googlenet", "webui", "bench")
MAX_LINES = 600
MAX_APP_LINES = 80


def project_modules() -> dict[str, Path]:
    """Dotted module name -> file, for app.py and every module of the packages."""
    modules = {"app": ROOT / "app.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the statements under ``if TYPE_CHECKING:`` (never executed: no dependency at run time)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skipped


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports, at module level or inside functions (both run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_blocks(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_among_the_projects_modules():
    # A package's __init__ importing its own submodules is how a public surface works, not a cycle of concerns.
    graph = {m: {d for d in deps if not (d.startswith(m + ".") or m.startswith(d + "."))}
             for m, deps in import_graph().items()}
    assert not cycles(graph), cycles(graph)


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    # and it sees function-level imports: the layout this test replaced had aux_heads <-> distill
    modules = {"x.aux": Path("aux.py"), "x.distill": Path("distill.py")}
    tree_imports = {"x.aux": {"x.distill"}, "x.distill": {"x.aux"}}
    assert cycles({m: tree_imports[m] for m in modules}) == [["x.aux", "x.distill"]]


def test_only_webui_imports_gradio():
    offenders = []
    for name, path in project_modules().items():
        if name.startswith("webui") or name.startswith("bench"):
            continue  # bench/ starts the app and its floor app (dev tooling)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "gradio" or n.startswith("gradio.") or n.startswith("gradio_client") for n in names):
                offenders.append(f"{name}:{node.lineno}")
    assert not offenders, offenders


def test_no_module_over_600_lines_and_a_thin_entry_point():
    long = {name: n for name, path in project_modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long
    assert len((ROOT / "app.py").read_text(encoding="utf-8").splitlines()) < MAX_APP_LINES


IMPORT_APP = r"""
import json, sys, threading
import gradio.processing_utils as pu
import matplotlib
before = (pu.save_pil_to_cache, pu.save_bytes_to_cache, dict(matplotlib.rcParams))
import gradio as gr
created = []
original_init = gr.Blocks.__init__
def spy(self, *a, **k):
    created.append(type(self).__name__)
    original_init(self, *a, **k)
gr.Blocks.__init__ = spy
import googlenet.inference as inference
engines = []
original_engine = inference.Engine.__init__
def engine_spy(self, *a, **k):
    engines.append(1)
    original_engine(self, *a, **k)
inference.Engine.__init__ = engine_spy
import app
after = (pu.save_pil_to_cache, pu.save_bytes_to_cache, dict(matplotlib.rcParams))
print(json.dumps({
    "patched": before[0] is not after[0] or before[1] is not after[1],
    "style_changed": before[2] != after[2],
    "blocks": created, "engines": len(engines),
    "demo_built": "demo" in vars(app),
    "threads": sorted(t.name for t in threading.enumerate() if t is not threading.main_thread()),
}))
"""


def test_importing_app_builds_patches_and_starts_nothing():
    done = subprocess.run([sys.executable, "-c", IMPORT_APP], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False",
                               "HOME": "/tmp"})
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"patched": False, "style_changed": False, "blocks": [], "engines": 0, "demo_built": False,
                      "threads": report["threads"]}
    assert not [t for t in report["threads"] if "uvicorn" in t.lower() or "server" in t.lower()], report


@pytest.mark.parametrize("argv,env,batching", [
    (["--device", "cpu"], {}, False),  # the flag wins over CUDA being available
    ([], {}, True),  # without it, CUDA is picked and /classify batches
    (["--device", "cpu"], {"GOOGLENET_CLASSIFY_BATCH": "1"}, True),  # forced on
    ([], {"GOOGLENET_DEVICE": "cpu"}, False),
])
def test_device_flag_decides_classify_batching(monkeypatch, argv, env, batching):
    import torch

    from webui.limits import classify_batching
    from webui.settings import Settings

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a CUDA machine, simulated
    environ = {"GOOGLENET_NO_DOWNLOAD": "1", **env}
    assert classify_batching(Settings.from_env(environ).with_argv(argv)) is batching


def test_built_page_follows_the_final_settings(monkeypatch, settings):
    """The page built for --device cpu on a (simulated) CUDA machine does not batch /classify."""
    import torch

    from webui.server import create_app

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    app = create_app(settings.with_argv(["--device", "cpu"]))
    classify = next(fn for fn in app.demo.fns.values() if fn.api_name == "classify")
    assert classify.batch is False and app.services.engine.device.type == "cpu"


def test_the_locale_files_load_without_torch():
    """The text layer needs no tensor library: the CLI's and the page's words load on their own."""
    code = "import sys, googlenet.messages as m; m.catalog('ko'); print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr[-2000:]
