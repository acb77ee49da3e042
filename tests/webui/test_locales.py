"""locales/*.json: every key the code uses exists in both languages, none is unused, the Korean texts are Korean,
and both languages take the same parameters.

"Used" is read from the code itself: every string literal that is a key, plus the keys the code builds from a
prefix and a value (``f"attributions.method.{method}"``); each such family is listed below with the values the code
can put in it, taken from the code's own enumerations. An f-string key family that is not listed fails the test, so
a new one cannot slip past the check.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from googlenet import BRANCHES
from googlenet.activations import Measure
from googlenet.attributions import BASELINES, BRANCH_METHODS, METHODS, PRESETS, SANITY_MODES
from googlenet.aux_heads import AuxHeadsStatus, BatchNormMode
from googlenet.messages import LANGUAGES, catalog
from googlenet.render.text import TextSet
from googlenet.weights import WeightsKind
from support import ROOT

HANGUL = re.compile(r"[\uac00-\ud7a3]")
SOURCES = sorted([ROOT / "app.py", *(ROOT / "googlenet").rglob("*.py"), *(ROOT / "webui").rglob("*.py")])


def key_families() -> dict[str, tuple[str, ...]]:
    """Prefix -> the suffixes the code can append to it."""
    import googlenet.render.attributions  # noqa: F401 - TextSet subclasses register by being imported
    import googlenet.render.aux_heads  # noqa: F401
    import googlenet.render.branches  # noqa: F401
    import googlenet.render.report  # noqa: F401
    from webui.tabs.branches import SCALES

    families = {
        "attributions.method.": METHODS,
        "attributions.preset.": PRESETS,
        "attributions.baseline.": BASELINES,
        "attributions.sanity_mode.": SANITY_MODES,
        "attributions.sanity_summary.": SANITY_MODES,
        "attributions.branch_method.": BRANCH_METHODS,
        "attributions.setting.": ("steps", "window", "stride"),
        "branches.measure.": tuple(m.value for m in Measure),
        "branches.scale.": SCALES,
        "aux.status.": tuple(s.value for s in AuxHeadsStatus),
        "aux.label.": tuple(s.value for s in AuxHeadsStatus),
        "aux.bn.": tuple(m.value for m in BatchNormMode),
        "weights.": tuple(k.value for k in WeightsKind),
        "model.branch.": BRANCHES,
        "common.toast_": ("error", "warning", "info", "success"),
    }
    for cls in _subclasses(TextSet):  # figure texts: one key per field
        families[cls.PREFIX + "."] = tuple(key.removeprefix(cls.PREFIX + ".") for key in cls.keys().values())
    return families


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _sections() -> set[str]:
    return {key.split(".")[0] for key in catalog("en")}


def literals_and_prefixes() -> tuple[dict[str, str], dict[str, str]]:
    """Key-like string literals and f-string key prefixes in the code: value -> where it was found."""
    sections = _sections()
    literals: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # the literal pieces of an f-string are prefixes, not keys
        pieces = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        for node in ast.walk(tree):
            if id(node) in pieces:
                continue
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                head = str(node.values[0].value)
                if head.split(".")[0].split("_")[0] in sections and re.fullmatch(r"[a-z_]+\.[a-z0-9_.]*", head):
                    prefixes.setdefault(head, where)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)+", text) and text.split(".")[0] in sections:
                    literals.setdefault(text, where)
    return literals, prefixes


def used_keys() -> set[str]:
    literals, prefixes = literals_and_prefixes()
    families = key_families()
    unknown = {p: where for p, where in prefixes.items() if p not in families}
    assert not unknown, f"key families built in the code but not listed in this test: {unknown}"
    text_prefixes = {cls.PREFIX for cls in _subclasses(TextSet)}  # class attributes, not keys
    used = {k for k in literals if k not in text_prefixes}
    for prefix, suffixes in families.items():
        used |= {prefix + s for s in suffixes}
    return used


def test_every_used_key_exists_in_every_language():
    used = used_keys()
    for lang in LANGUAGES:
        missing = sorted(used - set(catalog(lang)))
        assert not missing, f"keys used in the code but missing from locales/{lang}.json: {missing}"


def test_no_key_is_unused():
    unused = sorted(set(catalog("en")) - used_keys())
    assert not unused, f"keys in locales/en.json that no code uses: {unused}"


def test_both_languages_have_the_same_keys_and_parameters():
    en, ko = catalog("en"), catalog("ko")
    assert set(en) == set(ko), set(en) ^ set(ko)

    def params(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    different = {k for k in en if params(en[k]) != params(ko[k])}
    assert not different, different


def test_every_korean_text_is_korean():
    not_korean = {k: v for k, v in catalog("ko").items() if not HANGUL.search(v)}
    assert not not_korean, not_korean


def test_the_checks_can_fail(tmp_path):
    """An unknown key in the code, and a family the test does not know, are both caught."""
    bad = tmp_path / "bad.py"
    bad.write_text('X = "errors.no_such_key"\nY = f"branches.mystery.{1}"\n', encoding="utf-8")
    globals_ = globals()
    saved = globals_["SOURCES"]
    globals_["SOURCES"] = [*saved, bad]
    try:
        with pytest.raises(AssertionError, match="branches.mystery"):
            used_keys()
        bad.write_text('X = "errors.no_such_key"\n', encoding="utf-8")
        with pytest.raises(AssertionError, match="errors.no_such_key"):
            test_every_used_key_exists_in_every_language()
    finally:
        globals_["SOURCES"] = saved


def test_the_page_and_the_library_read_the_same_files():
    from webui.i18n import i18n

    translations = i18n().translations
    for lang in LANGUAGES:
        assert translations[lang] == dict(catalog(lang))
    assert Path(catalog.__module__.replace(".", "/") + ".py").name == "messages.py"
