"""Where the course lives: the one place that names its repository. The Binder and Colab badges of every notebook,
the README's badge, the instructor's guide, the website and the Colab setup cell are all written from here by
``python -m vae_lesson.classroom navigation`` (and ``--check`` fails while any of them disagrees; a test runs it).

To move the course to another repository, change ``REPOSITORY`` (and ``[project.urls]`` in ``pyproject.toml``, which
a test compares with it), then run ``python -m vae_lesson.classroom navigation``. Used by
``notebooks/00_start_here.ipynb``'s badges and by ``tools/build_site.py``.
"""

from __future__ import annotations

import re

from vae_lesson import __version__

#: The course's GitHub repository, "owner/name".
REPOSITORY = "vae-lesson/vae-lesson"
#: The branch that Binder opens.
BRANCH = "main"
#: The git tag that Colab opens the notebooks at and installs the package from: the release of this version (push
#: the tag when you release; see CONTRIBUTING.md).
RELEASE_TAG = f"v{__version__}"

REPOSITORY_URL = f"https://github.com/{REPOSITORY}"
BINDER_BADGE_IMAGE = "https://mybinder.org/badge_logo.svg"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

# The course's own links: Binder, Colab, GitHub and pip "git+" URLs of a repository named like the course's
# ("vae-lesson", or the name in REPOSITORY); links to other repositories, such as nbval's, are left alone.
_REPO = r"(?P<repo>[\w.\-]+/(?:vae-lesson|{name}))(?=[^\w\-]|$)"
_BINDER = r"https://mybinder\.org/v2/gh/{repo}/[^?\s)\"'<>]+"
_COLAB = r"https://colab\.research\.google\.com/github/{repo}/blob/[^/\s)\"'<>]+"
_GITHUB = r"(?P<git>git\+)?https://github\.com/{repo}"


def _patterns() -> list[tuple[re.Pattern, str]]:
    """(pattern, what it becomes) for each kind of course link, for the current ``REPOSITORY``."""
    repo = _REPO.format(name=re.escape(REPOSITORY.split("/")[1]))
    return [
        (re.compile(_BINDER.format(repo=repo)), f"https://mybinder.org/v2/gh/{REPOSITORY}/{BRANCH}"),
        (re.compile(_COLAB.format(repo=repo)), f"https://colab.research.google.com/github/{REPOSITORY}/blob/{RELEASE_TAG}"),
        (re.compile(_GITHUB.format(repo=repo)), f"https://github.com/{REPOSITORY}"),
    ]


def binder_url(path: str) -> str:
    """The Binder link that opens ``path`` (relative to the repository's root) in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{REPOSITORY}/{BRANCH}?urlpath=lab/tree/{path}"


def colab_url(path: str) -> str:
    """The Colab link that opens notebook ``path`` (relative to the repository's root) from GitHub, as it is in the
    release whose package the notebook's Colab cell installs (``RELEASE_TAG``), so that the two always agree."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{RELEASE_TAG}/{path}"


def badges(path: str) -> str:
    """The markdown of the "Open in Binder" and "Open in Colab" badges for notebook ``path``."""
    return (f"[![Open in Binder]({BINDER_BADGE_IMAGE})]({binder_url(path)}) "
            f"[![Open in Colab]({COLAB_BADGE_IMAGE})]({colab_url(path)})")


def pip_requirement() -> str:
    """What Colab's setup cell installs: the package from this release's tag of the repository."""
    return f"vae-lesson @ git+https://github.com/{REPOSITORY}@{RELEASE_TAG}"


def repositories_named(text: str) -> set[str]:
    """Every "owner/name" that the course's links in ``text`` point at (Binder, Colab, GitHub and pip links to a
    repository named like the course's)."""
    return {match["repo"] for pattern, _ in _patterns() for match in pattern.finditer(text)}


def relink(text: str) -> str:
    """``text`` with every course link (see :func:`repositories_named`) pointing at :data:`REPOSITORY`: Binder's at
    ``BRANCH``, Colab's at ``RELEASE_TAG`` (the notebook of the release that its setup cell installs)."""
    for pattern, replacement in _patterns():
        text = pattern.sub(lambda m, r=replacement: (m["git"] or "") + r if "git" in m.groupdict() else r, text)
    return text
