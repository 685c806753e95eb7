"""A picture of a widget, for wherever no kernel runs it: GitHub, nbviewer, the course's website. Every explorer of
the course displays itself (``explorer`` as a cell's last line) as the live widget *and* this picture, in one output:
JupyterLab and Colab show the widget (a stored notebook opened in JupyterLab before it is run shows "model not
found" there, not the picture: run it), a static viewer shows the picture, which says to run the notebook.

The picture is drawn from the widget's own state, not from a screenshot: its images (the PNGs the ``Image`` widgets
show), then each control's name and value, then its message line. Taught with the widgets of notebooks 01, 04 and 07.

The caption and the text line are in the language of the course's messages when the widget is displayed
(:func:`vae_lesson.set_language`); the controls' names and the messages are the widget's own. Every word of the
picture is drawn by matplotlib with ``CAPTION_STYLE`` (the caption) and ``TEXT_STYLE`` (the lines under the
images). A text with characters outside Latin-1 (Hangul) is drawn with the shipped NanumGothic font
(``vae_lesson/fonts/``) as a fallback, since matplotlib's DejaVu fonts have no Hangul: :func:`_styled`.
"""

from __future__ import annotations

import base64
import html
import io
import re
import textwrap
import threading
import unicodedata
from typing import Any

from functools import cache
from pathlib import Path

import ipywidgets as widgets
import matplotlib.image as mpimg
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vae_lesson.i18n import N_, tr
from vae_lesson.plots import figure_png

CAPTION = N_("A picture of the widget as this cell left it: run the notebook to {action}.")
MAX_ROW_WIDTH = 960  # pixels: wider rows of images wrap, like the widget's own rows in a notebook
GAP, MARGIN, LINE = 12, 10, 20  # pixels
CAPTION_STYLE = {"fontsize": 10, "style": "italic", "color": "#333333"}
TEXT_STYLE = {"fontsize": 9, "family": "monospace"}  # the controls' values and the messages
CONTROLS = (widgets.FloatSlider, widgets.IntSlider, widgets.SelectionSlider, widgets.ToggleButtons,
            widgets.Dropdown, widgets.Text)


FALLBACK_FONT = Path(__file__).resolve().parents[1] / "fonts" / "NanumGothic.ttf"


@cache
def _fallback_family() -> str | None:
    """The family name of the shipped Hangul font, registered with matplotlib on first use (None if the file is
    missing: the text is then drawn without it, as boxes, and nothing fails)."""
    from matplotlib import font_manager  # noqa: PLC0415

    if not FALLBACK_FONT.is_file():
        return None
    font_manager.fontManager.addfont(str(FALLBACK_FONT))
    return font_manager.FontProperties(fname=str(FALLBACK_FONT)).get_name()


def _styled(text: str, style: dict[str, Any]) -> dict[str, Any]:
    """``style`` for drawing ``text``: unchanged for Latin-1 text (the English pictures stay as they were), else with
    the Hangul font after the style's own family (matplotlib falls back glyph by glyph)."""
    family = _fallback_family() if any(ord(ch) > 0xFF for ch in text if ch.isalpha()) else None
    if family is None:
        return style
    first = {"monospace": "DejaVu Sans Mono"}.get(style.get("family", ""), "DejaVu Sans")
    return {**style, "family": [first, family]}


def _walk(widget: widgets.Widget) -> list[widgets.Widget]:
    """``widget`` and everything inside it, in display order."""
    found = [widget]
    for child in getattr(widget, "children", ()):
        found.extend(_walk(child))
    return found


def _plain(text: str) -> list[str]:
    """HTML as lines of plain text: a line per line break, paragraph or block; other tags dropped, entities
    decoded."""
    text = re.sub(r"(?i)<br\s*/?>|</?(?:p|div|li|ul|ol|tr|h\d)\b[^>]*>", "\n", text)
    lines = (" ".join(html.unescape(line).split()) for line in re.sub(r"<[^>]+>", "", text).split("\n"))
    return [line for line in lines if line]


def widget_parts(widget: widgets.Widget) -> tuple[list[np.ndarray], list[str], list[str]]:
    """What a picture of ``widget`` shows: its images (RGBA float arrays, from the PNGs its ``Image`` widgets hold),
    one "name = value" line per control, and the text of its HTML parts (messages, read-outs)."""
    images, controls, texts = [], [], []
    for part in _walk(widget):
        if isinstance(part, widgets.Image) and part.value:
            image = mpimg.imread(io.BytesIO(part.value), format="png")
            if image.ndim == 2:  # a grey-level PNG (the digits): grey, not a colour map
                image = np.repeat(image[:, :, None], 3, axis=2)
            images.append(image)
        elif isinstance(part, CONTROLS):
            labelled = (widgets.SelectionSlider, widgets.Dropdown, widgets.ToggleButtons)  # show the option's label
            value = part.label if isinstance(part, labelled) else part.value
            if value not in ("", None):
                controls.append(f"{part.description or tr('value')} = {value}")
        elif isinstance(part, widgets.HTML):
            texts.extend(_plain(part.value))
    return images, controls, texts


def _text_width(text: str, **style: Any) -> int:
    """The width in pixels (at 100 dpi) of ``text`` drawn in ``style``."""
    fig = Figure(dpi=100)
    renderer = FigureCanvasAgg(fig).get_renderer()
    return int(np.ceil(fig.text(0, 0, text, **style).get_window_extent(renderer).width))


def _wrap(text: str, columns: int) -> list[str]:
    """``text`` in lines of at most ``columns`` monospace columns, a wide character (Hangul, CJK) counting two, as
    fonts draw it; a word longer than a line is cut. Text without wide characters is wrapped by ``textwrap.wrap``."""
    def width(word: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in word)

    if width(text) == len(text):
        return textwrap.wrap(text, columns)
    lines: list[str] = []
    line, used = "", 0
    # textwrap's whitespace (no-break spaces hold); a run of spaces between two words on one line is kept, as
    # textwrap keeps it ("z[0] = 0.5   z[1] = -1.0")
    parts = re.split(r"([ \t\n\r\x0b\x0c]+)", text.strip())
    for word, gap in zip(parts[::2], [" ", *parts[1::2]]):
        if not word:
            continue
        gap = " " * len(gap)
        if line and used + len(gap) + width(word) <= columns:
            line, used = f"{line}{gap}{word}", used + len(gap) + width(word)
            continue
        if line:
            lines.append(line)
        line, used = "", 0
        for ch in word:
            if line and used + width(ch) > columns:
                lines.append(line)
                line, used = "", 0
            line, used = line + ch, used + width(ch)
    if line:
        lines.append(line)
    return lines


def _rows(images: list[np.ndarray]) -> list[list[np.ndarray]]:
    """The images in rows no wider than ``MAX_ROW_WIDTH`` (an image wider than that gets a row of its own)."""
    rows: list[list[np.ndarray]] = [[]]
    width = 0
    for image in images:
        if rows[-1] and width + GAP + image.shape[1] > MAX_ROW_WIDTH:
            rows.append([])
            width = 0
        width += image.shape[1] + (GAP if rows[-1] else 0)
        rows[-1].append(image)
    return [row for row in rows if row]


def widget_snapshot(widget: widgets.Widget, action: str = N_("move its sliders")) -> bytes:
    """PNG bytes of a picture of ``widget``: a caption on top (run the notebook to ``action``, translated if the
    catalog has it), its images at their own size (no resampling), then its controls' values and its messages as
    text."""
    images, controls, texts = widget_parts(widget)
    rows = _rows(images)
    row_widths = [sum(image.shape[1] for image in row) + GAP * (len(row) - 1) for row in rows]
    caption = tr(CAPTION, action=tr(action))
    caption_width = _text_width(caption, **_styled(caption, CAPTION_STYLE))
    width = max([MAX_ROW_WIDTH // 2, *row_widths, caption_width]) + 2 * MARGIN
    columns = (width - 2 * MARGIN) // 8  # characters of 9-point monospace (about 7.5 pixels each) per line
    values = "   ".join(control.replace(" ", "\u00a0") for control in controls)  # "z[1] = 0.5" stays on one line
    lines = [wrapped for text in ([values] if controls else []) + texts for wrapped in _wrap(text, columns)]
    height = (MARGIN + LINE + sum(max(image.shape[0] for image in row) + GAP for row in rows)
              + LINE * len(lines) + MARGIN)
    fig = Figure(figsize=(width / 100, height / 100), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    y = height - MARGIN  # matplotlib measures from the bottom
    fig.text(MARGIN / width, y / height, caption, va="top", ha="left", **_styled(caption, CAPTION_STYLE))
    y -= LINE + GAP // 2
    for row in rows:
        x = MARGIN
        for image in row:
            fig.figimage(image, xo=x, yo=y - image.shape[0], origin="upper")
            x += image.shape[1] + GAP
        y -= max(image.shape[0] for image in row) + GAP
    for line in lines:
        fig.text(MARGIN / width, y / height, line, va="top", ha="left", **_styled(line, TEXT_STYLE))
        y -= LINE
    return figure_png(fig, dpi=100)


class _ShowsPicture:
    """Mixed into every explorer: displaying the object shows the live widget (``.widget``) in a running notebook
    and, in the same output, :func:`widget_snapshot`'s picture for viewers without a kernel, and a text line that
    says what it is. Needs ``self.widget``, and ``self._lock`` where the widget is drawn from another thread;
    ``SNAPSHOT_ACTION`` (marked with ``N_``, translated when displayed) says what a student does with it."""

    widget: widgets.Widget
    SNAPSHOT_ACTION = N_("move its sliders")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        with getattr(self, "_lock", threading.RLock()):
            png = widget_snapshot(self.widget, self.SNAPSHOT_ACTION)
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude))
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
        bundle["text/plain"] = tr("{name}: an interactive widget. Run the notebook to {action}.",
                                  name=type(self).__name__, action=tr(self.SNAPSHOT_ACTION))
        return bundle
