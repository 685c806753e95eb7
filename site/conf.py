"""Sphinx configuration of the course's website, built by ``python tools/build_site.py OUTDIR`` (which copies this
folder, the notebooks, the instructor's guide and the glossary into a staging folder and runs Sphinx there).

The notebooks are shown as stored: myst-nb never executes them (``nb_execution_mode = "off"``). Math is typeset by
a MathJax bundled in a pip package (``sphinx-mathjax-offline``), so neither the build nor a reader needs a network.
"""

from vae_lesson import __version__, links

project = "vae-lesson"
author = "The vae-lesson authors"
release = version = __version__
copyright = "the vae-lesson authors, MIT licence"

extensions = ["myst_nb", "sphinx-mathjax-offline"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# The notebooks are stored with the outputs of one clean run: show those, never re-run them.
nb_execution_mode = "off"
# A widget's live view needs a kernel; the course's widgets also carry a picture of themselves (image/png, see
# vae_lesson/widgets/snapshot.py), which the site shows instead of an empty widget placeholder.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "html_image"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

html_theme = "sphinx_book_theme"
html_title = "Variational Autoencoders from first principles"
html_static_path = ["_static"]
html_theme_options = {
    "repository_url": links.REPOSITORY_URL,
    "repository_branch": links.BRANCH,
    "use_repository_button": True,
    "show_toc_level": 2,
}
html_last_updated_fmt = None
