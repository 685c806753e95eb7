"""The course's website (``python tools/build_site.py OUTDIR``): built from the stored notebooks without running them,
a page per notebook with its Binder and Colab links, no widget left empty, nothing fetched from the network; then
opened in Chromium (pages 01 and 04): the math is typeset, no image is broken, and each widget's picture is on the
page where the live widget would be. A screenshot of each page is saved and its path printed.

Without Sphinx/myst-nb, chromium or Playwright the tests are skipped, unless ``VAE_LESSON_REQUIRE_BROWSER=1`` (CI
sets it and installs them), where their absence is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from vae_lesson import links
from vae_lesson.classroom import COURSE

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = os.environ.get("VAE_LESSON_REQUIRE_BROWSER") == "1"
CHROMIUM = "/usr/bin/chromium"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
BROWSER_PAGES = ["01_elbo", "04_latent_explorer", "ko/04_latent_explorer"]


def _need(condition: bool, what: str) -> None:
    if not condition:
        if REQUIRED:
            pytest.fail(f"{what} (VAE_LESSON_REQUIRE_BROWSER=1; .ci/run installs it)")
        pytest.skip(what)


@pytest.fixture(scope="module")
def site() -> Path:
    """The website, built once into a temporary folder by the command README.md gives."""
    _need(importlib.util.find_spec("myst_nb") is not None, "myst-nb is not installed (requirements-site.txt)")
    out = Path(tempfile.mkdtemp(prefix="vae-lesson-site-")) / "html"
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "build_site.py"), str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def widget_pictures(name: str) -> list[str]:
    """SHA-256 of the picture stored with each widget output of notebook ``name``."""
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    return [hashlib.sha256(base64.b64decode(output["data"]["image/png"])).hexdigest()
            for cell in nb.cells for output in cell.get("outputs", []) if WIDGET_MIME in output.get("data", {})]


def picture_sources(site: Path, page: str, wanted: list[str]) -> list[str]:
    """The ``src`` of each ``<img>`` of ``page`` whose file is one of the ``wanted`` pictures, in page order."""
    html = (site / f"{page}.html").read_text(encoding="utf-8")
    found = []
    for src in re.findall(r'<img[^>]*\bsrc="([^"]+)"', html):
        path = (site / page).parent / src
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() in wanted:
            found.append(src)
    return found


def test_the_site_has_a_page_per_notebook_and_the_documents(site):
    for name, _ in COURSE:
        assert (site / f"{Path(name).stem}.html").is_file(), name
    for page in ("index", "INSTRUCTOR", "GLOSSARY"):
        assert (site / f"{page}.html").is_file(), page
    index = (site / "index.html").read_text(encoding="utf-8")
    for name, title in COURSE:  # the landing page links every notebook
        assert f'href="{Path(name).stem}.html"' in index, name


def test_the_site_has_the_korean_edition(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    for name, _ in COURSE:
        page = site / "ko" / f"{Path(name).stem}.html"
        assert page.is_file(), name
        assert f'href="ko/{Path(name).stem}.html"' in index, name
        html = page.read_text(encoding="utf-8")
        for url in (links.binder_url(f"notebooks/ko/{name}"), links.colab_url(f"notebooks/ko/{name}")):
            assert f'href="{url.replace("&", "&amp;")}"' in html, (name, url)
        assert 'href="../GLOSSARY.html#' in html or name == COURSE[0][0], f"{name}: the shared glossary is linked"
    assert (site / "ko" / "INSTRUCTOR.html").is_file()


def test_every_notebook_page_links_binder_and_colab_from_the_one_repository(site):
    for name, _ in COURSE:
        html = (site / f"{Path(name).stem}.html").read_text(encoding="utf-8")
        for url in (links.binder_url(f"notebooks/{name}"), links.colab_url(f"notebooks/{name}")):
            assert f'href="{url.replace("&", "&amp;")}"' in html, (name, url)


def test_the_site_fetches_nothing_from_the_network_and_leaves_no_widget_empty(site):
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file(), "MathJax is bundled with the site"
    for page in [*site.glob("*.html"), *site.glob("ko/*.html")]:
        html = page.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"', html)
        assert not remote, f"{page.name} loads {remote[:3]}"
        assert WIDGET_MIME not in html, f"{page.name}: a live-widget placeholder, which is empty without a kernel"


def _need_chromium() -> None:
    _need(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed")
    _need(importlib.util.find_spec("playwright") is not None, "playwright is not installed")


def _broken_images(tab) -> list[str]:
    tab.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    return tab.evaluate("() => [...document.images].filter(i => i.naturalWidth === 0).map(i => i.src)")


def test_the_landing_page_and_the_documents_in_chromium_have_no_broken_image(site):
    _need_chromium()
    from test_browser import chromium_context

    with tempfile.TemporaryDirectory(prefix="vae-lesson-site-browser-") as folder, \
            chromium_context(Path(folder)) as context:
        requested = []
        context.route(re.compile(r"^https?://"), lambda route: (requested.append(route.request.url), route.abort()))
        tab = context.new_page()
        for page in ("index", "INSTRUCTOR", "GLOSSARY"):
            tab.goto((site / f"{page}.html").as_uri())
            tab.wait_for_load_state("load")
            assert _broken_images(tab) == [], page
        tab.goto((site / "index.html").as_uri())
        assert tab.locator('img[alt="Open in Binder"]').evaluate("i => i.naturalWidth") > 50
        assert requested == [], f"the pages asked the network for {requested[:3]}"


@pytest.mark.parametrize("page", BROWSER_PAGES)
def test_pages_in_chromium_show_math_images_and_widget_pictures(site, page, capsys):
    _need_chromium()
    from test_browser import chromium_context

    pictures = picture_sources(site, page, widget_pictures(page))
    assert len(pictures) == len(widget_pictures(page)) >= 1, "each widget's picture is on the page"
    shots = Path(os.environ.get("VAE_LESSON_SCREENSHOTS") or tempfile.mkdtemp(prefix="vae-lesson-site-shots-"))
    shots.mkdir(parents=True, exist_ok=True)
    with chromium_context(shots / page.replace("/", "-")) as context:
        requested = []
        context.route(re.compile(r"^https?://"), lambda route: (requested.append(route.request.url), route.abort()))
        tab = context.new_page()
        tab.goto((site / f"{page}.html").as_uri())
        tab.wait_for_load_state("load")
        # MathJax typesets every math element, and none fails
        tab.wait_for_function("""() => {
            const maths = document.querySelectorAll('.math');
            return maths.length > 0 && [...maths].every(m => m.querySelector('mjx-container'));
        }""", timeout=60_000)
        assert tab.locator("mjx-merror").count() == 0, "MathJax reports an error in a formula"
        assert tab.locator("mjx-container").count() >= 10
        broken = _broken_images(tab)
        assert broken == [], f"broken images: {broken}"
        for src in pictures:
            picture = tab.locator(f'img[src="{src}"]')
            picture.scroll_into_view_if_needed()
            box = picture.bounding_box()
            assert picture.is_visible() and box["height"] > 100 and box["width"] > 200, src
        tab.locator(f'img[src="{pictures[0]}"]').scroll_into_view_if_needed()
        path = shots / f"site-{page.replace('/', '-')}.png"
        tab.screenshot(path=str(path))
        assert requested == [], f"the page asked the network for {requested[:3]}"
    with capsys.disabled():  # shown in CI's log even though the test passes
        print(f"\nscreenshot of the site's page {page}, at its first widget picture: {path}")
