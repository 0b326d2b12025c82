"""A small Sphinx extension for the book (``_config.yml``: ``sphinx.extra_extensions``).

It mends what the browser test (:mod:`oodlib.sitecheck`) found in the stock Jupyter Book 1.x site:

* **MathJax offline.** Sphinx loads MathJax from a CDN, so formulas stayed raw TeX for a reader
  without internet (and the page logged a failed request). The book's ``mathjax_path`` points to
  ``_static/mathjax/tex-mml-chtml.js``; this extension copies MathJax 3 (Apache-2.0, from the
  ``django-static-mathjax`` wheel, which is only a package of MathJax's files) and its CHTML
  fonts there when the build finishes.
* **Scripts included twice.** sphinx-thebe registers its configuration script at every
  ``env-before-read-docs``, which Jupyter Book fires twice, so every page declared
  ``THEBE_JS_URL`` twice (a JavaScript error). Identical scripts are kept once per page.
* **No colour mode.** sphinx-book-theme leaves pydata's ``default_mode`` empty, so a first visit
  (nothing in ``localStorage``) logged "Got invalid theme mode". Pages get ``auto`` (the
  reader's system setting).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

#: what the CHTML output of ``tex-mml-chtml.js`` needs, relative to MathJax's ``es5`` folder
MATHJAX_FILES = ("tex-mml-chtml.js", "output/chtml/fonts/woff-v2")


def mathjax_source() -> Path:
    """MathJax's ``es5`` folder in the installed ``mathjax`` package (``django-static-mathjax``).

    Raises:
        FileNotFoundError: the package is not installed (``pip install -r requirements.txt``).
    """
    try:
        import mathjax
    except ImportError as err:
        raise FileNotFoundError("MathJax's files are missing: pip install django-static-mathjax "
                                "(listed in requirements.txt)") from err
    return Path(mathjax.__file__).parent / "static" / "mathjax"


def copy_mathjax(target: Path) -> None:
    """Copy ``tex-mml-chtml.js``, its fonts and MathJax's licence to ``target``."""
    source = mathjax_source()
    es5 = source / "es5"
    for rel in MATHJAX_FILES:
        src, dst = es5 / rel, target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)
    shutil.copy2(source / "LICENSE", target / "LICENSE")


def _script_key(script: Any) -> tuple:
    """What makes two scripts the same: file (or ``None`` for an inline one) and attributes (body included)."""
    if isinstance(script, str):  # the old style: a bare file name
        return (script,)
    attributes = getattr(script, "attributes", {}) or {}
    return (getattr(script, "filename", None) or None, tuple(sorted((k, str(v)) for k, v in attributes.items())))


def mend_page(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Keep each identical script (same file or body, same attributes) once in the page, and give
    the theme a colour mode (``auto``) where it has none."""
    if not context.get("default_mode"):
        context["default_mode"] = "auto"
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    kept = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def _finish(app: Any, exception: BaseException | None) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(Path(app.outdir) / "_static" / "mathjax")


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", mend_page, priority=900)
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
