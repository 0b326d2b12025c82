"""The browser test finds what a reader would: every defect class on a fabricated site, none on a clean one.

Runs headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it); skipped with the reason when
it is absent.
"""

from __future__ import annotations

import base64
import io
import wave
from pathlib import Path

import pytest

from oodlib.sitecheck import check_site, find_chromium

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="no Chromium on PATH (apt-get install chromium)")

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)
    return buf.getvalue()


def _page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'></head><body>{body}</body></html>"


GOOD = """<h1 id="top">Fine</h1><p><a href="other.html#here">other</a> <a href="#top">top</a>
<a href="https://doi.org/10.1/x">external</a></p><img src="pixel.png" width="10" height="10">
<audio controls src="tone.wav"></audio>
<table><thead><tr><th></th><th colspan="2">AUROC</th></tr><tr><th>method</th><th>paper</th><th>ours</th></tr></thead>
<tbody><tr><th>kNN</th><td>90.1</td><td>88.0</td></tr></tbody></table>"""

BAD = """<h1>Broken</h1><p><a href="missing.html">gone</a> <a href="other.html#nowhere">no anchor</a></p>
<img src="absent.png"><audio controls></audio><p>AUROC is {glue:text}`auroc:.1f` here</p>
<p>The classifier is {glue:text}classifier`` (a role whose backticks were eaten)</p>
<table><thead><tr><th></th><th colspan="2">AUROC</th></tr><tr><th>method</th><th>paper</th><th>ours</th></tr></thead>
<tbody><tr><th>kNN</th><td>90.1</td><td>NaN</td></tr><tr><th>MSP</th><td>80.0</td><td></td></tr></tbody></table>
<!-- RECORDS --><script>console.error("boom"); undefinedFunction();</script>"""


def _site(tmp_path: Path, index: str) -> Path:
    site = tmp_path / "html"
    site.mkdir()
    (site / "index.html").write_text(_page(index))
    (site / "other.html").write_text(_page('<h2 id="here">Here</h2>'))
    (site / "pixel.png").write_bytes(PNG)
    (site / "tone.wav").write_bytes(_wav())
    return site


def test_a_clean_site_passes_and_gets_screenshots(tmp_path):
    reports = check_site(_site(tmp_path, GOOD), screenshots=tmp_path / "shots", log=lambda *_: None)
    assert {r.page for r in reports} == {"index.html", "other.html"}
    assert [p for r in reports for p in r.problems] == []
    assert sorted(p.name for p in (tmp_path / "shots").glob("*.png")) == ["index.png", "other.png"]


def test_every_defect_is_reported(tmp_path):
    reports = check_site(_site(tmp_path, BAD), screenshots=None, log=lambda *_: None)
    problems = "\n".join(next(r for r in reports if r.page == "index.html").problems)
    for expected in ("console error", "uncaught", "broken link: missing.html", "broken anchor: other.html#nowhere",
                     "image not loaded or zero size: absent.png", "audio: no source", "placeholder in the text",
                     'empty "ours" column: table 1, column 3', "unfilled marker in the page: <!-- RECORDS -->"):
        assert expected in problems, f"{expected!r} not reported in:\n{problems}"
    assert problems.count("placeholder in the text") == 2


def test_a_site_without_index_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="make book"):
        check_site(tmp_path, screenshots=None)


def test_notebook_pages_must_keep_the_books_promises(tmp_path):
    from oodlib.sitecheck import page_expectations

    site = _site(tmp_path, GOOD)
    (site / "notebooks").mkdir()
    good = ("<div class='provenance'>box <a class='download' href='../pixel.png'>record</a></div>"
            + "<div class='exercise'>1</div>" * 3)
    (site / "notebooks" / "p1_x.html").write_text(_page(good))
    (site / "notebooks" / "p2_y.html").write_text(_page("<p>no box, no exercises</p>"))
    (site / "notebooks" / "00_tour.html").write_text(_page("<div class='provenance'>box</div>"))
    reports = {r.page: r.problems for r in check_site(site, screenshots=None, log=lambda *_: None)}
    assert reports["notebooks/p1_x.html"] == []
    assert reports["notebooks/p2_y.html"] == ["expected one provenance box, found 0",
                                              "no download links (record, scores, tables)",
                                              "expected at least 3 exercises, found 0"]
    assert reports["notebooks/00_tour.html"] == ["no download links (record, scores, tables)"]
    assert page_expectations("book/intro.html", {}) == []
