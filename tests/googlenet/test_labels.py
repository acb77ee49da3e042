"""The Korean class names (locales/imagenet_classes_ko.tsv): one per class of the weights' metadata, in its order,
none empty, Hangul in each; a broken file fails the loader with a keyed error that names the line; the display
names the page shows ("얼룩 고양이 (tabby)")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from torchvision.models import GoogLeNet_Weights

from googlenet.labels import (CATEGORIES, ClassNamesError, category_index, class_names_file, display_name,
                              display_names, load_class_names, shown_name, translated_names)
from googlenet.messages import KeyedError

HANGUL = re.compile(r"[\uac00-\ud7a3]")
KOREAN = class_names_file("ko")


def rows(path: Path = KOREAN) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


def write(path: Path, table: list[list[str]]) -> Path:
    path.write_text("".join("\t".join(row) + "\n" for row in table), encoding="utf-8")
    return path


def test_the_korean_file_has_every_class_in_the_weights_order():
    metadata = GoogLeNet_Weights.IMAGENET1K_V1.meta["categories"]
    table = rows()
    assert table[0] == ["index", "english", "korean"]
    body = table[1:]
    assert len(body) == 1000 == len(metadata)
    assert [int(index) for index, _, _ in body] == list(range(1000))
    assert [english for _, english, _ in body] == list(metadata)
    assert all(korean.strip() for _, _, korean in body)
    assert all(HANGUL.search(korean) for _, _, korean in body), [k for _, _, k in body if not HANGUL.search(k)]
    names = load_class_names(KOREAN)
    assert names == tuple(korean.strip() for _, _, korean in body)
    assert translated_names("ko") == names and translated_names("en") is None


def test_display_names_put_the_korean_name_first_and_keep_the_english():
    assert display_name(281, "ko") == "얼룩 고양이 (tabby)"
    assert display_name(281, "en") == "tabby"
    assert display_names("en") == CATEGORIES
    assert all(name.endswith(f" ({english})") for name, english in zip(display_names("ko"), CATEGORIES))
    # a name that is not the weights' category of that index (other categories) is shown as it is
    assert shown_name(281, "tabby", "ko") == "얼룩 고양이 (tabby)"
    assert shown_name(281, "my own class", "ko") == "my own class"
    assert display_names("ko", categories=["a", "b"]) == ("a", "b")
    # the target picker's text can be typed back in either language
    assert category_index("얼룩 고양이 (tabby)") == category_index("얼룩 고양이") == category_index("tabby") == 281


@pytest.mark.parametrize(("damage", "key"), [
    ("missing row", "classes.wrong_index"),
    ("last row missing", "classes.missing_rows"),
    ("empty name", "classes.empty_name"),
    ("no Hangul", "classes.no_hangul"),
    ("English differs", "classes.wrong_english"),
    ("extra row", "classes.extra_row"),
    ("two columns", "classes.bad_row"),
    ("no header", "classes.bad_header"),
])
def test_a_broken_file_fails_with_a_keyed_error(tmp_path, damage, key):
    table = rows()
    if damage == "missing row":
        del table[300]
    elif damage == "last row missing":
        del table[-1]
    elif damage == "empty name":
        table[282][2] = "  "
    elif damage == "no Hangul":
        table[282][2] = "tabby cat"
    elif damage == "English differs":
        table[282][1] = "tabby cat"
    elif damage == "extra row":
        table.append(["1000", "extra", "추가"])
    elif damage == "two columns":
        table[10] = table[10][:2]
    elif damage == "no header":
        del table[0]
    path = write(tmp_path / "imagenet_classes_ko.tsv", table)
    with pytest.raises(ClassNamesError) as info:
        load_class_names(path)
    assert isinstance(info.value, KeyedError) and info.value.key == key
    if damage in ("empty name", "no Hangul", "English differs"):
        assert info.value.message.params["line"] == 283 and info.value.message.params["index"] == 281
    assert HANGUL.search(info.value.text("ko"))


def test_the_intact_copy_loads(tmp_path):
    """The damage above is what fails: the same file copied unchanged loads."""
    assert load_class_names(write(tmp_path / "copy.tsv", rows())) == translated_names("ko")


def test_other_categories_are_checked_against_their_own_list():
    """Weights with other categories: the file must match them, so the Korean file cannot be used for them."""
    with pytest.raises(ClassNamesError) as info:
        load_class_names(KOREAN, categories=["cat", "dog"])
    assert info.value.key == "classes.wrong_english"
