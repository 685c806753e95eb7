"""The language of the course's messages: the checkers' verdicts and hints, and the widgets' labels and messages.

English is the default. ``vae_lesson.set_language("ko")`` (the Korean notebooks' setup line), or the environment
variable ``VAE_LESSON_LANG=ko``, makes them Korean.

Every message is written once, in English, where it is used, and goes through :func:`tr`:
``tr("wrong shape: expected {expected}, got {got}", expected=..., got=...)``. The English text is the key of the
one catalog of translations, ``vae_lesson/locale/ko.json`` (English text -> Korean text, same ``{fields}``).
A message kept in a module-level constant is marked with :func:`N_` and translated where it is shown.
``tests/test_i18n.py`` checks that every message has its translation and that no translation is left over.
The section headings that checkers' hints quote are not written by hand: they come from the Korean notebooks' own
translations (``ko.headings.json``, written by ``python -m vae_lesson.classroom translate``), merged in.
Taught nowhere: the Korean edition (``notebooks/ko/``) uses it from its first code cell.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

#: The languages the messages exist in; the first is the default.
LANGUAGES = ("en", "ko")
ENV_VARIABLE = "VAE_LESSON_LANG"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_chosen: str | None = None  # set_language's choice; None: the environment variable, else English


def _valid(lang: str, source: str) -> str:
    code = str(lang).strip().lower()
    if code not in LANGUAGES:
        raise ValueError(f"{source} {lang!r} is not a language of the course's messages: use one of "
                         f"{', '.join(map(repr, LANGUAGES))}.")
    return code


def set_language(lang: str | None) -> None:
    """Make the course's messages (checkers, widgets) English (``"en"``) or Korean (``"ko"``) from now on, in this
    Python process. ``None`` goes back to the environment variable ``VAE_LESSON_LANG`` (English if unset).
    Widgets built before the call keep their labels; their messages follow the new language."""
    global _chosen
    _chosen = None if lang is None else _valid(lang, "set_language:")


def language() -> str:
    """The language of the messages now: :func:`set_language`'s choice, else ``VAE_LESSON_LANG``, else English."""
    if _chosen is not None:
        return _chosen
    env = os.environ.get(ENV_VARIABLE, "").strip()
    return _valid(env, f"the environment variable {ENV_VARIABLE}=") if env else LANGUAGES[0]


@cache
def catalog(lang: str) -> dict[str, str]:
    """The translations into ``lang`` (English text -> translated text); empty for English."""
    if lang == LANGUAGES[0]:
        return {}
    merged: dict[str, str] = {}
    for path in [LOCALE_DIR / f"{lang}.headings.json", LOCALE_DIR / f"{lang}.json"]:  # messages win over headings
        try:
            merged.update(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise RuntimeError(f"The catalog of {lang!r} messages ({path}) is missing or corrupt ({error}); "
                               "reinstall the package (pip install -e . in the course's folder).") from error
    return merged


def N_(message: str) -> str:
    """Mark an English ``message`` kept in a module-level constant as translatable, and return it unchanged: the
    code that shows it translates it then, with ``tr(CONSTANT)``, so that the language chosen at that moment
    counts (a constant is made once, at import). The tests read the marked literals like ``tr``'s."""
    return message


def tr(message: str, /, **fields: object) -> str:
    """``message`` (English, the catalog's key) in the current language, with its ``{fields}`` filled in
    (``str.format``: ``{worst:.3g}`` and ``{answer!r}`` work). A message without a translation stays English."""
    text = catalog(language()).get(message, message) if language() != LANGUAGES[0] else message
    return text.format(**fields) if fields else text
