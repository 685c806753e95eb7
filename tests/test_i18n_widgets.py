"""The widgets in Korean (vae_lesson.i18n): every explorer, driven as a student drives it with wrong and right input,
labels its controls and answers in Korean (one line per message) when the course's language is Korean, and says
exactly what it said before in English. Labels follow the language when a widget is made; messages, captions,
read-outs and the picture's caption follow the language when they are shown."""

from __future__ import annotations

import base64
import html
import re
import textwrap

import ipywidgets as widgets
import pytest
import torch

from vae_lesson import i18n, set_language
from vae_lesson.data import load_mnist
from vae_lesson.linear_gaussian import LinearGaussianModel
from vae_lesson.models import VAE, ConditionalVAE
from vae_lesson.rate_distortion import train_beta_sweep
from vae_lesson.widgets import (BetaExplorer, ConditionalExplorer, DigitEncoder, ElboExplorer, Interpolator,
                                LatentExplorer, WidgetInputError, parse_index, parse_numbers)
from vae_lesson.widgets.snapshot import _wrap, widget_parts, widget_snapshot

# matplotlib's default font has no Hangul: the picture's Korean words are drawn as boxes, with a warning, until
# the course ships a font (vae_lesson/widgets/snapshot.py, CAPTION_STYLE and TEXT_STYLE)
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")

HANGUL = re.compile("[\uac00-\ud7a3]")
ENGLISH_WORD = re.compile(r"[(\"']?[A-Za-z]{2,}[)\"',.;:!?]*")


def plain(text: str) -> str:
    """An HTML caption or message as the student reads it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def longest_english_run(text: str) -> int:
    """The most plain English words in a row in ``text`` (code in backticks aside; symbols such as z, t, R and D are
    not words)."""
    run = longest = 0
    for word in plain(re.sub(r"`[^`]*`", " ", text)).split():
        run = run + 1 if ENGLISH_WORD.fullmatch(word) else 0
        longest = max(longest, run)
    return longest


def assert_korean(text: str) -> None:
    """``text`` is Korean: it has Hangul, and no run of 4 or more plain English words; and it is one line."""
    assert HANGUL.search(text), f"no Korean in {text!r}"
    assert longest_english_run(text) < 4, f"English left in {text!r}"
    assert "\n" not in text, f"more than one line: {text!r}"


@pytest.fixture
def korean():
    set_language("ko")
    try:
        yield
    finally:
        set_language(None)


@pytest.fixture
def english():
    set_language("en")
    try:
        yield
    finally:
        set_language(None)


@pytest.fixture(scope="module")
def data():
    x, y = load_mnist("test")
    return x[:200], y[:200]


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {"2d": VAE(2, hidden=(16,)).eval(), "5d": VAE(5, hidden=(16,)).eval(),
            "cvae": ConditionalVAE(4, hidden=(16,)).eval()}


@pytest.fixture(scope="module")
def beta_runs(data):
    x = data[0]
    binary = (x > 0.5).float()
    runs = train_beta_sweep([0.5, 2.0], x[:64], binary[:32], epochs=1, latent_dim=2, hidden=(8,), lr_final=None)
    return runs, binary[:4].reshape(-1, 28, 28).numpy()


def assert_displays_in_korean(explorer) -> None:
    """The text line and the picture of an explorer displayed in Korean; the picture still holds its images."""
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"].startswith(f"{type(explorer).__name__}: ")
    assert_korean(bundle["text/plain"])
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    images, controls, texts = widget_parts(explorer.widget)
    assert images
    for text in [*controls, *texts]:  # what the picture writes under the images
        assert longest_english_run(text) < 4, text


# --- the typed input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda: parse_index("seven", 300),
    lambda: parse_index("300", 300),
    lambda: parse_index("-1", 300),
    lambda: parse_numbers("1, 2", 1, -3, 3),
    lambda: parse_numbers("1", 3, -3, 3),
    lambda: parse_numbers("1, 2, 3", 2, -3, 3),
    lambda: parse_numbers("0.5, x", 2, -3, 3),
    lambda: parse_numbers("nan, 0", 2, -3, 3),
    lambda: parse_numbers("0.5, 12", 2, -3, 3),
])
def test_wrong_input_is_explained_in_korean(korean, call):
    with pytest.raises(WidgetInputError) as error:
        call()
    assert_korean(str(error.value))


def test_wrong_input_keeps_its_english_words_and_numbers(english):
    expected = [
        (lambda: parse_index("seven", 300),
         "'seven' is not a whole number: type the number of a test image, 0 to 299."),
        (lambda: parse_index("1200", 1200), "1200 is outside the 1,200 test images: type a number from 0 to 1199."),
        (lambda: parse_index("x", 5, what="digit"), "'x' is not a whole number: type the number of a digit, 0 to 4."),
        (lambda: parse_numbers("1, 2", 1, -3, 3),
         "The explorer has 1 slider; you typed 2 numbers. Type 1, separated by commas."),
        (lambda: parse_numbers("1", 3, -3, 3),
         "The explorer has 3 sliders; you typed 1 number. Type 3, separated by commas."),
        (lambda: parse_numbers("1, 2, 3", 2, -3, 3),
         "The explorer has 2 sliders; you typed 3 numbers. Type 2, separated by commas."),
        (lambda: parse_numbers("0.5, 12", 2, -3, 3),
         "12 is outside the sliders' range [-3, 3]: the prior N(0, 1) puts almost no mass there, so the decoder was "
         "never trained on it. Type a value inside the range."),
    ]
    for call, message in expected:
        with pytest.raises(WidgetInputError) as error:
            call()
        assert str(error.value) == message
    set_language("ko")  # the numbers stay as they are in Korean
    with pytest.raises(WidgetInputError, match="1,200") as error:
        parse_index("1200", 1200)
    assert "1200" in str(error.value) and "1199" in str(error.value)


# --- notebook 04's widgets ------------------------------------------------------------------------------------------


def test_latent_explorer_in_korean(korean, models, data):
    explorer = LatentExplorer(models["2d"], *data)
    for box in (explorer.index_box, explorer.z_box):
        assert_korean(box.description)
    assert_korean(explorer.index_box.placeholder)
    assert "199" in explorer.index_box.placeholder
    assert_korean(explorer.message)
    for box, text in [("index_box", "300"), ("index_box", "seven"), ("z_box", "1.0"), ("z_box", "1, 2, 3"),
                      ("z_box", "0.5, x"), ("z_box", "0.5, 12"), ("z_box", "nan, 0")]:
        getattr(explorer, box).value = text
        assert_korean(explorer.message)
        assert explorer.messages.html.value.count("⚠") == 1, text
    explorer.z_box.value = "1, 1"
    assert_korean(explorer.message)
    assert "⚠" not in explorer.messages.html.value
    explorer.index_box.value = "5"
    assert_korean(explorer.message)
    assert "5" in explorer.message
    explorer.set_sliders([0.5, -0.5])
    assert_korean(explorer.message)
    unlabelled = LatentExplorer(models["5d"], data[0], None, num_sliders=1)
    assert_korean(unlabelled.message)
    unlabelled.z_box.value = "1, 2"
    assert_korean(unlabelled.message)
    assert_displays_in_korean(explorer)


def test_digit_encoder_in_korean(korean, models, data):
    x, y = data
    encoder = DigitEncoder(models["2d"], x, y, num_samples=4)
    for text in (encoder.index_box.description, encoder.digit.description, encoder.random_button.description,
                 encoder.sample_button.description, encoder.sample_button.tooltip, encoder.message,
                 encoder.samples_caption.value, encoder.zoom_caption.value):
        assert_korean(text)
    assert len(encoder.sample_button.description) <= 16
    assert encoder.sample_button.description in encoder.samples_caption.value  # the caption names the button
    assert_korean(encoder.widget.children[1].children[0].children[0].value)  # input | reconstruction
    encoder.draw_samples()
    assert_korean(encoder.message)
    assert_korean(encoder.samples_caption.value)
    encoder.random_button.click()
    assert_korean(encoder.message)
    encoder.index_box.value = "12x"
    assert_korean(encoder.message)
    assert "12x" in encoder.message
    no_fives = DigitEncoder(models["2d"], x[y != 5], y[y != 5])
    no_fives.digit.value = 5
    no_fives.random_button.click()
    assert_korean(no_fives.message)
    assert "5" in no_fives.message
    unlabelled = DigitEncoder(models["2d"], x, None)
    assert_korean(unlabelled.message)
    assert_displays_in_korean(encoder)


def test_interpolator_in_korean(korean, models, data):
    x = data[0]
    interpolator = Interpolator(models["5d"], x[0], x[1], images=x)
    for text in (interpolator.mode.description, interpolator.index_a.description, interpolator.index_b.description,
                 *interpolator.mode._options_labels, interpolator.caption.value, interpolator.readout.value):
        assert_korean(text)
    assert list(interpolator.mode._options_values) == ["linear", "spherical"]  # the values stay the modes' names
    interpolator.mode.value = "spherical"
    interpolator.index_a.value, interpolator.index_b.value = "abc", "999"
    assert_korean(interpolator.message)
    assert interpolator.message.startswith(interpolator.index_a.description + ": ")
    assert "abc" in interpolator.message and "999" in interpolator.message
    interpolator.index_b.value = ""
    interpolator.index_a.value = "2"
    assert_korean(interpolator.message)
    interpolator.index_b.value = "4"
    assert_korean(interpolator.message)
    assert "2" in interpolator.message and "4" in interpolator.message
    interpolator.t.value = 0.37
    assert "t = 0.37" in interpolator.caption.value
    assert_korean(interpolator.caption.value)
    assert_korean(interpolator.readout.value)
    assert_displays_in_korean(interpolator)


# --- notebooks 01 and 07 --------------------------------------------------------------------------------------------


def test_conditional_and_beta_explorers_in_korean(korean, models, data, beta_runs):
    explorer = ConditionalExplorer(models["cvae"], *data)
    for text in (explorer.class_buttons.description, explorer.index_box.description, explorer.index_box.placeholder,
                 explorer.row_caption.value, explorer.message):
        assert_korean(text)
    explorer.index_box.value = "3"
    assert_korean(explorer.message)
    assert "3" in explorer.message
    explorer.index_box.value = "x"
    assert_korean(explorer.message)
    explorer.set_label(2)
    explorer.set_sliders([0.1] * len(explorer.sliders))
    assert_korean(explorer.message)
    assert_displays_in_korean(explorer)

    runs, inputs = beta_runs
    beta = BetaExplorer(runs, inputs)
    assert_korean(beta.caption.value)
    assert "β = 0.5" in beta.caption.value
    beta.select(2.0)
    assert_korean(beta.caption.value)
    assert "β = 2" in beta.caption.value
    assert_displays_in_korean(beta)


def test_elbo_explorer_in_korean(korean):
    g = torch.Generator().manual_seed(0)
    model = LinearGaussianModel.random(2, 1, noise_std=0.8, generator=g)
    explorer = ElboExplorer(model, model.sample(1, generator=g)[0])
    assert_korean(explorer.mean.description)
    assert_korean(explorer.log_std.description)
    explorer.set_q(0.3, -0.5)
    assert "ELBO + KL = " in explorer.readout.value  # symbols and numbers: the same in both languages
    assert_displays_in_korean(explorer)


# --- English stays as it was; the language may change after import -------------------------------------------------


def test_english_is_unchanged(english, models, data):
    x, y = data
    explorer = LatentExplorer(models["2d"], x, y)
    assert (explorer.index_box.description, explorer.z_box.description) == ("digit #", "type z")
    assert explorer.index_box.placeholder == "0 to 199"
    assert explorer.message == (f"z starts at the posterior mean of test image 0 (a {int(y[0])}), rounded to the "
                                "sliders' step of 0.01.")
    explorer.z_box.value = "1, 1"
    assert explorer.message == "z set from the typed numbers."
    explorer.set_sliders([0.0, 0.0])
    assert explorer.message == "z set from code: the sliders show it."
    encoder = DigitEncoder(models["2d"], x, y, num_samples=4)
    assert (encoder.random_button.description, encoder.sample_button.description,
            encoder.sample_button.tooltip) == ("a random one", "draw samples", "draw z ~ q(z|x) and decode them")
    assert encoder.samples_caption.value == ("<b>decodings of samples z ~ q(z|x)</b> (none yet: press "
                                             "<i>draw samples</i>)")
    assert encoder.message == f"test image 0, labelled {int(y[0])}."
    encoder.draw_samples()
    assert encoder.message == ("4 samples of q(z|x) for test image 0: the spread of these decodings is the encoder's "
                               "uncertainty.")
    interpolator = Interpolator(models["5d"], x[0], x[1], images=x)
    assert list(interpolator.mode._options_labels) == list(interpolator.mode._options_values) == ["linear",
                                                                                                    "spherical"]
    assert (interpolator.mode.description, interpolator.index_a.description) == ("path", "from #")
    interpolator.index_a.value = "2"
    assert interpolator.message == "type a test image's number in both boxes."
    interpolator.index_b.value = "4"
    assert interpolator.message == "from test image 2 to test image 4."
    assert interpolator.caption.value == "<b>decoding of z(t) at t = 0.00</b>"
    assert interpolator.readout.value.startswith("|z(t)| = ") and "samples of the prior N(0, I) have |z| near" in \
        interpolator.readout.value
    assert interpolator._repr_mimebundle_()["text/plain"] == ("Interpolator: an interactive widget. Run the notebook "
                                                              "to move along the path and pick its two digits.")
    assert explorer._repr_mimebundle_()["text/plain"] == ("LatentExplorer: an interactive widget. Run the notebook to "
                                                          "move its sliders.")


def test_the_language_can_change_after_the_widget_is_made(models, data):
    x, y = data
    try:
        set_language("en")
        explorer = LatentExplorer(models["2d"], x, y)
        encoder = DigitEncoder(models["2d"], x, y, num_samples=4)
        english_picture = encoder._repr_mimebundle_()["image/png"]
        set_language("ko")  # after import and after the widgets were made
        assert explorer.index_box.description == "digit #"  # labels: the language when the widget was made
        explorer.z_box.value = "1"
        assert_korean(explorer.message)  # messages: the language now
        encoder.draw_samples()
        assert_korean(encoder.message)
        assert_korean(encoder.samples_caption.value)
        assert_korean(encoder._repr_mimebundle_()["text/plain"])
        assert encoder._repr_mimebundle_()["image/png"] != english_picture  # its caption is Korean now
        set_language("en")
        explorer.z_box.value = "1, 2, 3"
        assert explorer.message == "The explorer has 2 sliders; you typed 3 numbers. Type 2, separated by commas."
        assert encoder._repr_mimebundle_()["text/plain"].startswith("DigitEncoder: an interactive widget.")
        set_language("ko")
        korean_encoder = DigitEncoder(models["2d"], x, y)
        assert_korean(korean_encoder.sample_button.description)
        set_language("en")
        assert korean_encoder.sample_button.description != "draw samples"  # made in Korean, it stays so
        korean_encoder.draw_samples()
        assert korean_encoder.message.startswith("8 samples of q(z|x)")
    finally:
        set_language(None)


def test_the_environment_variable_makes_the_widgets_korean(monkeypatch, models, data):
    monkeypatch.setenv(i18n.ENV_VARIABLE, "ko")
    set_language(None)
    explorer = LatentExplorer(models["2d"], *data)
    assert_korean(explorer.index_box.description)
    assert_korean(explorer.message)


def test_the_pictures_text_wraps_by_the_width_it_is_drawn(korean):
    columns = 30
    english = "z starts at the posterior mean of test image 12 (a 7), rounded to the sliders' step of 0.01."
    assert _wrap(english, columns) == textwrap.wrap(english, columns)  # English: as before
    assert _wrap("z[0]\u00a0=\u00a00.5   z[1]\u00a0=\u00a0-1", 12) == ["z[0]\u00a0=\u00a00.5", "z[1]\u00a0=\u00a0-1"]
    message = "z는 테스트 이미지 12(숫자 7)의 사후 분포 평균에서 시작하며, 슬라이더 간격 0.01에 맞춰 반올림했습니다."
    lines = _wrap(message, columns)
    assert " ".join(lines) == message
    assert all(sum(2 if HANGUL.match(ch) else 1 for ch in line) <= columns for line in lines)
    assert _wrap("가나다라마바사", 6) == ["가나다", "라마바", "사"]  # a word longer than a line is cut
    picture = widget_snapshot(widgets.VBox([widgets.HTML("<b>한국어</b> 메시지 " * 40)]))
    assert picture[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_pictures_caption_follows_the_language_when_drawn(english):
    picture = widget_snapshot(widgets.VBox([widgets.HTML("a message")]))
    set_language("ko")
    assert widget_snapshot(widgets.VBox([widgets.HTML("a message")])) != picture  # the caption follows
    set_language("en")
    assert widget_snapshot(widgets.VBox([widgets.HTML("a message")])) == picture
