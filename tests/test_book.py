"""The course's website (``make book``, scripts/build_book.py), checked file by file and in a
real browser: math rendered by the site's own MathJax, every figure loaded, the chapters linked
in order, the widget cell's note with its Colab and Binder links, and no request to any host
but the one serving the site.

The site is built once: the tests use ``build/book/html`` when ``make book`` built it from the
sources as they are now (the build records a digest of them), and otherwise build it first
through the same script. Building needs Jupyter Book (``requirements-book.txt``, which ``make
book`` installs) and npm; without them the tests skip, or fail under
``COURSE_LIB_REQUIRE_BOOK=1``. The browser tests need Chromium and Playwright, like
tests/test_browser.py. A screenshot of chapter 1 goes to ``build/test-output/book/`` (or to
``$COURSE_LIB_TEST_OUTPUT``).
"""

from __future__ import annotations

import html
import importlib.util
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from browser_support import chromium_context, output_dir, served
from gates import REQUIRE_BOOK, skip_or_fail
from npm_tools import npm_tools

from course_lib import launch

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("build_book", ROOT / "scripts" / "build_book.py")
build_book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_book)

CHAPTERS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
CHAPTER_1, CHAPTER_2 = "01_vickrey_auction.ipynb", "02_bucket_brigade.ipynb"
SCREENSHOT = "01_vickrey_auction.png"
WIDGET_LINE = "This cell shows an interactive widget: run the notebook in Jupyter to use it"
BUILD_TIMEOUT_S = 600
# What a visible text must not contain once MathJax has typeset the page.
RAW_TEX = ("$", "\\frac", "\\(", "\\)", "\\[", "\\]", "\\cdot", "^{", "_{")
# The page's prose: the text of its Markdown cells (code and its outputs are not TeX). In the
# HTML, formulas are <span class="math"> or <div class="math"> holding only text.
PROSE = ", ".join(f"article {tag}:not(.cell *)" for tag in ("p", "li", "td", "h1", "h2", "h3"))
NOT_PROSE = re.compile(r'<(pre|code|script|style)\b.*?</\1>|<(span|div) class="math\b.*?</\2>',
                       re.S)
TAG = re.compile(r"<[^>]+>")
# Tags whose attribute makes the browser fetch something (a link, <a href>, fetches nothing).
LOADS = {"img": "src", "script": "src", "link": "href", "iframe": "src", "source": "src",
         "video": "src", "audio": "src", "embed": "src", "object": "data"}


def _page(notebook: str) -> str:
    return f"notebooks/{Path(notebook).stem}.html"


# ---------------------------------------------------------------------------------------------
# The staged sources: made in memory, no build needed.


def test_the_landing_page_is_the_readmes_intro_and_chapter_map() -> None:
    landing = build_book.site_sources()["index.md"].decode()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert landing.startswith(readme.split("\n", 1)[0] + "\n")  # the title
    assert "\n## Chapters\n" in landing and landing.count("\n## ") == 1
    chapters = [f"notebooks/{name}" for name in CHAPTERS]
    targets = [target for _, _, target in build_book.LINK.findall(landing)]
    assert [t for t in targets if t.startswith("notebooks/")] == chapters
    assert all(t in chapters or t.startswith("https://") for t in targets), targets
    assert not build_book.EXTERNAL_IMAGE.search(landing)


def test_the_pages_change_only_badges_the_set_up_cell_and_widget_outputs() -> None:
    files = build_book.site_sources()
    for name in CHAPTERS:
        committed = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        staged = nbformat.reads(files[f"notebooks/{name}"].decode(), as_version=4)
        assert [c.cell_type for c in staged.cells] == [c.cell_type for c in committed.cells]
        code = [(c, s) for c, s in zip(committed.cells, staged.cells, strict=True)
                if c.cell_type == "code"]
        assert all(c.source == s.source for c, s in code)
        assert "remove-cell" in code[0][1].metadata.get("tags", [])  # the Colab set-up cell
        assert not any("remove-cell" in s.metadata.get("tags", []) for _, s in code[1:])
        markdown = "\n".join(c.source for c in staged.cells if c.cell_type == "markdown")
        assert not build_book.EXTERNAL_IMAGE.search(markdown)
        assert f"[Open in Colab]({launch.colab_url(name)})" in markdown
        browser = launch.browser_url(name)  # chapters 0-3 in the in-browser site, not 4-6
        assert (f"[Run in the browser]({browser})" in markdown) == (browser is not None)
        assert (browser is not None) == (name[:2] in ("00", "01", "02", "03"))
        for c, s in code:
            for before, after in zip(c.outputs, s.outputs, strict=True):
                if before.get("data", {}).get("text/plain") == build_book.WIDGET_PLACEHOLDER:
                    assert after.data["text/html"] == build_book.widget_note(name)
                else:
                    assert after == before


# ---------------------------------------------------------------------------------------------
# The built site, and a server for it on 127.0.0.1.


@pytest.fixture(scope="module")
def site() -> Path:
    if not build_book.is_up_to_date():
        reason = build_book.missing_tools()
        if reason:
            skip_or_fail(f"the website is not built from the current sources (`make book`) and "
                         f"cannot be built here: {reason}", REQUIRE_BOOK)
        result = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_book.py")],
                                cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        if result.returncode != 0:
            pytest.fail(f"building the website failed:\n{(result.stdout + result.stderr)[-6000:]}")
    return build_book.HTML


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    with served(site) as address:
        yield f"{address}/"


@dataclass
class Visit:
    """A browser page on the site, with every request it made. Requests to any other host are
    recorded and refused (a closed network would otherwise leave them hanging)."""
    page: Page
    base: str
    requests: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def other_hosts(self) -> list[str]:
        return [url for url in self.requests
                if urlsplit(url).scheme not in ("data", "blob")
                and urlsplit(url).hostname != "127.0.0.1"]


@pytest.fixture
def visit(server: str) -> Iterator[Visit]:
    with chromium_context(viewport={"width": 1280, "height": 900}) as context:
        visit = Visit(context.new_page(), server)
        context.on("request", lambda request: visit.requests.append(request.url))
        context.on("requestfailed", lambda request: visit.failures.append(
            f"{request.url}: {request.failure}"))
        context.on("response", lambda response: response.status >= 400 and visit.failures.append(
            f"{response.url}: HTTP {response.status}"))
        context.route(lambda url: not url.startswith(server), lambda route: route.abort())
        yield visit


def _only_local_requests(visit: Visit) -> None:
    assert visit.other_hosts() == [], "the site loaded something from another host"
    assert visit.failures == [], "a request of the site failed"


# ---------------------------------------------------------------------------------------------
# Without a browser: every page's links and resources.


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (tag, URL)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == LOADS.get(tag) or (tag == "a" and name == "href")):
                self.links.append((tag, value))


def _figure_alts(notebook: str) -> list[str | None]:
    """The alt text of every figure a notebook shows (cell metadata ``mystnb.image.alt``,
    which MyST-NB puts on the page's images), None where a figure has none."""
    nb = nbformat.read(ROOT / "notebooks" / notebook, as_version=4)
    return [cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
            for cell in nb.cells if cell.cell_type == "code"
            for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]


def test_every_figure_has_alt_text_that_says_what_it_shows() -> None:
    for notebook in CHAPTERS:
        alts = _figure_alts(notebook)
        assert None not in alts, f"{notebook}: a figure without alt text"
        for alt in alts:  # a sentence, not a file name or a placeholder
            assert len(alt.split()) >= 8 and not re.search(r"\.(png|svg)\b", alt), alt


def test_the_site_shows_every_figure_with_its_alt_text(site: Path) -> None:
    for notebook in CHAPTERS:
        parser = _Images()
        parser.feed((site / _page(notebook)).read_text(encoding="utf-8"))
        assert parser.alts == _figure_alts(notebook), notebook


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.alts: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img" and "/_images/" in (found.get("src") or ""):  # a notebook's output
            self.alts.append(found.get("alt"))


def test_every_relative_link_of_every_page_leads_to_a_file(site: Path) -> None:
    pages = [p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts]
    assert {_page(name) for name in CHAPTERS} | {"index.html"} <= {
        p.relative_to(site).as_posix() for p in pages}
    broken, external = [], []
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for tag, url in parser.links:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:
                if tag != "a" and parts.scheme != "data":
                    external.append(f"{page.relative_to(site)}: <{tag}> {url}")
                continue
            if not parts.path:  # "#anchor" on the same page
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not (target.is_file() and target.is_relative_to(site.resolve())):
                broken.append(f"{page.relative_to(site)}: {url}")
    assert broken == []
    assert external == [], "a page loads something from another host"


def test_no_page_leaves_tex_unparsed(site: Path) -> None:
    """Outside formulas and code, no page's article holds TeX: a formula the Markdown parser
    missed (such as `$$...$$` inside a paragraph) would reach the reader as raw text."""
    left = {}
    for page in sorted(site.rglob("*.html")):
        article = re.search(r"<article\b.*</article>", page.read_text(encoding="utf-8"), re.S)
        if article is None:
            continue
        text = html.unescape(TAG.sub("", NOT_PROSE.sub("", article.group())))
        if found := [tex for tex in RAW_TEX if tex in text]:
            left[page.relative_to(site).as_posix()] = found
    assert left == {}


# ---------------------------------------------------------------------------------------------
# In the browser.


def _typeset(visit: Visit) -> None:
    """Wait until MathJax has typeset the page and its fonts have loaded. MathJax must come from
    the site: a page that asks another host for it fails here at once, not after a timeout."""
    _only_local_requests(visit)
    visit.page.wait_for_function("() => window.MathJax?.startup?.promise", timeout=10_000)
    visit.page.evaluate("() => MathJax.startup.promise.then(() => document.fonts.ready)")
    visit.page.wait_for_load_state("networkidle")
    _only_local_requests(visit)


def test_chapter_1_renders_math_figures_and_links(site: Path, visit: Visit) -> None:
    from playwright.sync_api import expect

    page = visit.page
    page.goto(visit.base + _page(CHAPTER_1))
    try:
        _typeset(visit)
        article = page.locator("article")

        # Math: every formula typeset by MathJax, no TeX error, no TeX left in the prose.
        assert page.locator("article .math").count() > 10
        expect(page.locator("article .math:not(:has(mjx-container))")).to_have_count(0)
        expect(page.locator("article mjx-merror")).to_have_count(0)
        prose = "\n".join(page.locator(PROSE).all_inner_texts())
        assert "Vickrey" in prose
        assert [tex for tex in RAW_TEX if tex in prose] == []
        assert any("/_static/mathjax/output/chtml/fonts/" in url for url in visit.requests), \
            "MathJax's fonts were not loaded from the site"

        # Figures: as many as the notebook has PNG outputs, every one loaded.
        nb = nbformat.read(ROOT / "notebooks" / CHAPTER_1, as_version=4)
        pngs = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
        widths = article.locator("img").evaluate_all(
            "images => images.map(i => i.complete ? i.naturalWidth : 0)")
        assert len(widths) >= pngs > 0
        assert all(width > 0 for width in widths), widths
        expect(article.locator("img[src^='http']")).to_have_count(0)

        # The title's launch links are text links; the widget cell's note links to both.
        note = page.locator(".widget-note")
        expect(note).to_have_count(1)
        expect(note).to_contain_text(WIDGET_LINE)
        for url in (launch.colab_url(CHAPTER_1), launch.binder_url(CHAPTER_1)):
            expect(article.locator(f'h1 ~ p a[href="{url}"]')).to_have_count(1)
            expect(note.locator(f'a[href="{url}"]')).to_have_count(1)
        # The Colab set-up cell does nothing outside Colab: the page leaves it out.
        expect(article.get_by_text(launch.SETUP_CELL_MARKER)).to_have_count(0)
        _only_local_requests(visit)
    finally:
        _screenshot(page)

    # The next chapter, through the page's "next" link.
    page.locator(f'a.right-next[href="{Path(_page(CHAPTER_2)).name}"]').click()
    page.wait_for_url(f"**/{_page(CHAPTER_2)}")
    expect(page.locator("article h1")).to_contain_text("02 ·")
    _typeset(visit)


def test_landing_page_lists_the_chapters_in_order(site: Path, visit: Visit) -> None:
    from playwright.sync_api import expect

    page = visit.page
    page.goto(visit.base)
    _typeset(visit)
    expect(page.locator("article h1")).to_contain_text("Markets of Agents")
    expected = [_page(name) for name in CHAPTERS]
    # The README's chapter map, linking to the chapter pages, and the sidebar in that order.
    table = page.locator("article table a.reference.internal")
    assert table.evaluate_all("links => links.map(a => a.getAttribute('href'))") == expected
    sidebar = page.locator("nav.bd-docs-nav a.reference.internal")  # this page, the chapters
    assert sidebar.evaluate_all("links => links.map(a => a.getAttribute('href'))") == [
        "#", *expected]
    for href in expected:
        assert page.request.get(visit.base + href).ok, href
    table.nth(3).click()
    page.wait_for_url(f"**/{expected[3]}")
    expect(page.locator("article h1")).to_contain_text("03 ·")
    _only_local_requests(visit)


# The WCAG 2.0 and 2.1 success criteria at levels A and AA (axe-core's tags for them).
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
    return result.violations.map(v => ({rule: v.id, impact: v.impact, help: v.help,
                                        where: v.nodes.slice(0, 3).map(n => n.html)}));
}"""


def test_every_page_meets_wcag_2_1_aa_in_axe(site: Path, visit: Visit) -> None:
    """axe-core (tests/npm) on every page once the theme's scripts and MathJax have run: no
    violation of the WCAG 2.1 A and AA rules it tests, of any impact (the issue's bar is no
    serious or critical one; the site has none at all)."""
    axe = (npm_tools() / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
    pages = ["index.html", "search.html", "genindex.html", *(_page(n) for n in CHAPTERS)]
    found = {}
    for name in pages:
        visit.page.goto(visit.base + name)
        if name != "search.html" and name != "genindex.html":
            _typeset(visit)
        visit.page.wait_for_load_state("networkidle")
        visit.page.add_script_tag(content=axe)
        violations = visit.page.evaluate(AXE_RUN, WCAG_AA)
        if violations:
            found[name] = violations
    assert found == {}
    assert len(pages) == len(CHAPTERS) + 3


def _screenshot(page: Page) -> None:
    """The top of chapter 1: title, launch links, the first formulas. Best effort: on a failing
    run the assertion, not a screenshot error, is what gets reported."""
    path = output_dir("book") / SCREENSHOT
    try:
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(path), timeout=10_000)
    except Exception as error:
        warnings.warn(f"no screenshot saved to {path}: {error}", stacklevel=1)
