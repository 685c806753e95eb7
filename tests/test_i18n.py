"""The course's messages in two languages (vae_lesson.i18n): every message written through ``tr`` has its Korean
translation with the same fields, no translation is left over, and the language is chosen as documented."""

import ast
import json
import string
from pathlib import Path

import pytest

import vae_lesson
from vae_lesson import i18n

PACKAGE = Path(vae_lesson.__file__).resolve().parent


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def messages() -> dict[str, list[str]]:
    """Every message literal passed to ``tr`` or marked with ``N_`` in the package (message -> where), read from
    the source; an ``N_`` whose message is not a string literal is reported as such. (``tr`` of a variable
    translates a marked constant.)"""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node.func, "id", getattr(node.func, "attr", None)) if isinstance(node, ast.Call) else None
            if name in ("tr", "N_"):
                where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
                first = node.args[0] if node.args else None
                key = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                if key is not None:
                    found.setdefault(key, []).append(where)
                elif name == "N_":
                    found.setdefault(f"<not a literal at {where}>", []).append(where)
    return found


def test_every_message_is_a_literal_with_a_korean_translation_of_the_same_fields():
    catalog = i18n.catalog("ko")
    found = messages()
    assert len(found) > 100, "the checkers' and widgets' messages go through tr"
    not_literal = [key for key in found if key.startswith("<not a literal")]
    assert not not_literal, not_literal
    missing = [f"{key!r} ({found[key][0]})" for key in found if key not in catalog]
    assert not missing, f"{len(missing)} messages have no Korean translation: " + "; ".join(missing[:10])
    wrong = [key for key in found if _fields(catalog[key]) != _fields(key)]
    assert not wrong, f"translations whose {{fields}} differ from the English: {wrong[:5]}"
    empty_or_english = [key for key in found if not any("\uac00" <= ch <= "\ud7a3" for ch in catalog[key])
                        and any(ch.isalpha() for ch in key)]
    assert not empty_or_english, f"translations without Korean: {empty_or_english[:5]}"


def test_no_translation_is_left_over():
    written_by_hand = {}
    for path in [i18n.LOCALE_DIR / "ko.json", *i18n.LOCALE_DIR.glob("ko.*.json")]:
        if path.name != "ko.headings.json":  # every heading of the Korean notebooks, generated
            written_by_hand.update(json.loads(path.read_text(encoding="utf-8")))
    leftover = sorted(set(written_by_hand) - set(messages()))
    assert not leftover, f"catalog entries no code uses: {leftover[:5]}"


def test_the_language_comes_from_set_language_then_the_environment(monkeypatch):
    monkeypatch.delenv(i18n.ENV_VARIABLE, raising=False)
    try:
        i18n.set_language(None)
        assert i18n.language() == "en"
        monkeypatch.setenv(i18n.ENV_VARIABLE, "ko")
        assert i18n.language() == "ko"
        i18n.set_language("en")
        assert i18n.language() == "en"  # the call wins over the environment
        vae_lesson.set_language("KO ")
        assert i18n.language() == "ko"
        with pytest.raises(ValueError, match="'fr' is not a language"):
            i18n.set_language("fr")
        assert i18n.language() == "ko"  # a refused value changes nothing
        i18n.set_language(None)
        monkeypatch.setenv(i18n.ENV_VARIABLE, "klingon")
        with pytest.raises(ValueError, match="VAE_LESSON_LANG"):
            i18n.language()
    finally:
        i18n.set_language(None)


def test_tr_translates_and_fills_fields(monkeypatch):
    key = next(k for k in messages() if _fields(k))
    fields = {name: 7 for name in _fields(key)}
    try:
        i18n.set_language("en")
        assert i18n.tr(key, **fields) == key.format(**fields)
        i18n.set_language("ko")
        assert i18n.tr(key, **fields) == i18n.catalog("ko")[key].format(**fields)
        assert i18n.tr("a sentence no catalog has") == "a sentence no catalog has"  # falls back to English
    finally:
        i18n.set_language(None)
