"""Open every page of the built book in headless Chromium, as a reader would, and list what is broken.

``oodlib check-site _build/html`` (the Makefile's ``book-check``) serves the site from a local
static server on 127.0.0.1, opens each page with Playwright driving the system's Chromium
(Debian's ``chromium`` package; Playwright's own browser download is never used), and reports:

* a JavaScript console error or an uncaught exception;
* a broken internal link: a target file that does not exist, or an ``#anchor`` the target page lacks;
* an image that did not load or has zero size;
* an audio element without a source the browser can play;
* a MyST or glue placeholder left in the text (``{glue:text}`...```, ``:::``, ``<!-- RECORDS -->``);
* a table whose "ours" column is empty;
* a notebook page without its provenance box or downloads, a paper page with fewer than three
  exercises (:func:`page_expectations`).

A screenshot of the top of each page goes to ``screenshots`` (default ``<site>/../screenshots``).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

#: Chromium flags for a closed network: without the background-networking ones Chromium keeps
#: trying to reach Google's hosts
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required")
#: what must never reach a reader's eyes: unrendered MyST roles/directives and unfilled markers
PLACEHOLDERS = (re.compile(r"\{(glue(:\w+)?|doc|download|cite(:\w+)?|ref|numref|eq|term|math)\}"),
                re.compile(r"^\s*:::", re.M), re.compile(r"^\s*```\{", re.M))
MARKER = re.compile(r"<!-- [A-Z_]+ -->")
REDIRECT = re.compile(r"""<meta http-equiv=["']?refresh["']?[^>]*url=([^"'>]+)""", re.I)
EMPTY_CELL = {"", "nan", "none", "-", "—", "n/a"}
SKIP_DIRS = ("_static", "_sources", "_images", "_downloads", "_sphinx_design_static")


@dataclass
class PageReport:
    """What one page showed: its problems (empty when fine) and the ids it defines."""

    page: str
    problems: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)
    seconds: float = 0.0


def find_chromium() -> str | None:
    """The Chromium to drive: ``$OODLIB_CHROMIUM``, else ``chromium`` / ``chromium-browser`` on PATH."""
    env = os.environ.get("OODLIB_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the report says what matters
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) for the duration; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the site, relative paths (theme and download folders left out)."""
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html")
                  if not any(part in SKIP_DIRS for part in p.relative_to(site).parts))


# One pass in the page: images, audio, tables' "ours" columns, ids, links, visible text.
_INSPECT = """async () => {
  const out = {images: [], audio: [], emptyOurs: [], ids: [], links: [], text: document.body.innerText};
  for (const img of document.images) {
    if (!img.complete) await new Promise(r => { img.onload = img.onerror = r; setTimeout(r, 5000); });
    if (img.naturalWidth === 0 || img.naturalHeight === 0)
      out.images.push(img.getAttribute('src').slice(0, 80));
  }
  for (const a of document.querySelectorAll('audio')) {
    const srcs = [a.getAttribute('src'), ...[...a.querySelectorAll('source')].map(s => s.getAttribute('src'))].filter(Boolean);
    const types = [...a.querySelectorAll('source')].map(s => s.type).filter(Boolean);
    if (!srcs.length) { out.audio.push('no source'); continue; }
    if (types.length && !types.some(t => a.canPlayType(t))) { out.audio.push('unplayable type ' + types.join(',')); continue; }
    if (a.readyState < 1 && !a.error) {
      a.load();
      await new Promise(r => { a.onloadedmetadata = a.onerror = r; setTimeout(r, 5000); });
    }
    if (a.error || a.readyState < 1) out.audio.push('did not load: ' + srcs[0].slice(0, 60) + (a.error ? ' (error ' + a.error.code + ')' : ''));
  }
  const grid = rows => {
    const m = [];
    rows.forEach((tr, i) => {
      m[i] = m[i] || [];
      let j = 0;
      for (const c of tr.children) {
        while (m[i][j] !== undefined) j++;
        const cs = c.colSpan || 1, rs = c.rowSpan || 1;
        for (let di = 0; di < rs; di++) for (let dj = 0; dj < cs; dj++) {
          m[i + di] = m[i + di] || [];
          m[i + di][j + dj] = c.innerText.trim();
        }
        j += cs;
      }
    });
    return m;
  };
  document.querySelectorAll('table').forEach((t, n) => {
    const head = grid([...t.querySelectorAll('thead tr')]);
    const body = grid([...t.querySelectorAll('tbody tr')]);
    if (!head.length || !body.length) return;
    const width = Math.max(...head.map(r => r.length));
    for (let j = 0; j < width; j++) {
      if (!head.some(r => /\\bours\\b/i.test(r[j] || ''))) continue;
      const cells = body.map(r => (r[j] || '').toLowerCase());
      if (cells.every(c => EMPTY.includes(c))) out.emptyOurs.push('table ' + (n + 1) + ', column ' + (j + 1));
    }
  });
  out.counts = {provenance: document.querySelectorAll('.provenance').length,
                exercises: document.querySelectorAll('.exercise').length,
                downloads: document.querySelectorAll('a.download').length};
  out.ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  out.links = [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));
  return out;
}"""


#: what this book promises on its pages: a notebook page has its provenance box and downloads; a
#: paper page (``notebooks/pN_...``) also its exercises
PAPER_PAGE = re.compile(r"^notebooks/p\d_[^/]+\.html$")
MIN_EXERCISES = 3


def page_expectations(rel: str, counts: dict[str, int]) -> list[str]:
    """The book's own promises that ``rel`` breaks, from the page's element ``counts``."""
    problems = []
    if rel.startswith("notebooks/"):
        if counts.get("provenance", 0) != 1:
            problems.append(f"expected one provenance box, found {counts.get('provenance', 0)}")
        if counts.get("downloads", 0) < 1:
            problems.append("no download links (record, scores, tables)")
    if PAPER_PAGE.match(rel) and counts.get("exercises", 0) < MIN_EXERCISES:
        problems.append(f"expected at least {MIN_EXERCISES} exercises, found {counts.get('exercises', 0)}")
    return problems


def _inspect_page(page, url: str, rel: str, html: str, screenshots: Path | None) -> PageReport:
    """Open one page (``html``: its file's text) and collect its problems; links are checked later,
    against every page's ids."""
    report = PageReport(rel)
    t = time.perf_counter()
    redirect = REDIRECT.search(html)
    if redirect:  # a redirect stub (the site's index.html): only its target is checked
        report.links = [redirect.group(1)]
        return report
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} ({r.failure})"))
    page.goto(url, wait_until="load")
    found = page.evaluate(_INSPECT.replace("EMPTY", repr(sorted(EMPTY_CELL))))
    report.problems += [f"console error: {e[:160]}" for e in errors]
    report.problems += [f"image not loaded or zero size: {s}" for s in found["images"]]
    report.problems += [f"audio: {a}" for a in found["audio"]]
    report.problems += [f'empty "ours" column: {c}' for c in found["emptyOurs"]]
    for pattern in PLACEHOLDERS:
        for m in pattern.finditer(found["text"]):
            line = found["text"][max(0, m.start() - 30):m.end() + 30].replace("\n", " ")
            report.problems.append(f"placeholder in the text: ...{line}...")
    report.problems += [f"unfilled marker in the page: {m}" for m in sorted(set(MARKER.findall(html)))]
    report.problems += page_expectations(rel, found["counts"])
    report.ids, report.links = set(found["ids"]), found["links"]
    if screenshots is not None:
        shot = screenshots / (rel.replace("/", "__").removesuffix(".html") + ".png")
        page.screenshot(path=str(shot))
    report.seconds = time.perf_counter() - t
    return report


def _link_problems(report: PageReport, base: str, site: Path, ids: dict[str, set[str]]) -> list[str]:
    """Internal links of one page whose target file or anchor does not exist."""
    problems = []
    page_url = urljoin(base, report.page)
    for href in report.links:
        absolute = urljoin(page_url, href)
        if not absolute.startswith(base):
            continue  # external (doi.org, ...) or mailto: not checked offline
        target, anchor = urldefrag(absolute)
        rel = unquote(urlparse(target).path[len(urlparse(base).path):])
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        if not (site / rel).is_file():
            problems.append(f"broken link: {href} (no file {rel})")
        elif anchor and rel.endswith(".html") and rel in ids and unquote(anchor) not in ids[rel]:
            problems.append(f"broken anchor: {href} (no id {anchor!r} in {rel})")
    return problems


def check_site(site: str | Path, screenshots: str | Path | None = "default", chromium: str | None = None,
               log=print) -> list[PageReport]:
    """Check every page of ``site``; return one report per page (see the module docstring).

    Raises:
        FileNotFoundError: ``site`` has no ``index.html``, or no Chromium was found.
    """
    from playwright.sync_api import sync_playwright

    site = Path(site).resolve()
    if not (site / "index.html").is_file():
        raise FileNotFoundError(f"{site} has no index.html: build the book first (make book)")
    chromium = chromium or find_chromium()
    if not chromium:
        raise FileNotFoundError("no Chromium found: install Debian's chromium package (apt-get install chromium) "
                                "or set $OODLIB_CHROMIUM to its executable")
    shots = site.parent / "screenshots" if screenshots == "default" else (Path(screenshots) if screenshots else None)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    reports = []
    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for rel in site_pages(site):
                page = context.new_page()
                try:
                    html = (site / rel).read_text(encoding="utf-8", errors="replace")
                    reports.append(_inspect_page(page, urljoin(base, rel), rel, html, shots))
                finally:
                    page.close()
                log(f"[check-site] {rel}: {len(reports[-1].problems) or 'ok'} ({reports[-1].seconds:.1f} s)")
        finally:
            browser.close()
        ids = {r.page: r.ids for r in reports}
        for r in reports:
            r.problems += _link_problems(r, base, site, ids)
    return reports
