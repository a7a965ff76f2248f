"""Build the course as a static website with Jupyter Book 1 (``make book``).

The site shows the committed notebooks with their saved outputs; nothing is executed. Steps:

1. Stage the sources in ``build/book/src``: the landing page (the README's title, intro and
   chapter map), one page per notebook, ``_config.yml`` (``book/_config.yml`` plus the
   repository from ``course_lib/launch.py``) and ``_toc.yml`` (the notebooks in order). Only
   the staged copies change: launch badges become text links (the badge images live on other
   hosts), the Colab set-up cell is removed (it does nothing outside Colab), and a saved
   widget's placeholder becomes a note with the notebook's Colab and Binder links. Links to
   files that are not pages of the site point to GitHub.
2. MathJax: ``npm ci`` installs the version pinned in ``book/package-lock.json`` (once per
   lock file), and the site serves it from ``_static/mathjax``: no page loads anything from
   another host.
3. ``jupyter-book config sphinx`` writes ``conf.py``; Sphinx builds ``build/book/html``, and
   any warning fails the build.
4. Two of the theme's buttons are given names a screen reader can match to what is shown
   (WCAG 2.5.3, "label in name"; ``tests/test_book.py`` runs axe-core on every page): the
   search field's button is named by its visible text ("Search Ctrl+K") instead of a
   narrower label, and the colour-mode button's icons lose the titles ("Light", "Dark", ...)
   that became text inside a button labelled "Color mode"; they are hidden from assistive
   technology, and the button keeps its label.

A successful build leaves ``build/book/source-digest.txt``, a digest of everything the site is
made from, so that a test can tell whether the site is up to date (``is_up_to_date``) instead
of building it again.

Usage: python scripts/build_book.py
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import json
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_notebooks import WIDGET_PLACEHOLDER  # noqa: E402
from npm_ci import npm_ci  # noqa: E402

from course_lib import launch  # noqa: E402  (the checkout's copy, even if another is installed)

BOOK = ROOT / "book"  # committed: _config.yml, package.json, package-lock.json
OUT = ROOT / "build" / "book"
SRC, HTML, STATIC, NPM = OUT / "src", OUT / "html", OUT / "static", OUT / "npm"
DOCTREES = OUT / "doctrees"
DIGEST = OUT / "source-digest.txt"
# Besides the staged sources, what decides how the site is built.
BUILD_INPUTS = ("scripts/build_book.py", "requirements-book.txt", "book/package.json",
                "book/package-lock.json")

# The MathJax files the site serves: the TeX-to-HTML bundle and what it loads on demand
# (TeX extensions, its fonts, the accessibility and menu components).
MATHJAX_FILES = ("tex-chtml.js", "input", "output/chtml", "a11y", "sre", "ui")

_BADGE = r"\[!\[([^\]]*)\]\([^)]*\)\]\(([^)]*)\)"  # [![alt](image)](target)
BADGE, BADGES = re.compile(_BADGE), re.compile(rf"{_BADGE}(?:[ \t]+{_BADGE})*")  # one; a row
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")  # [text](target), ![alt](image)
EXTERNAL_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*https?:|<img[^>]+src=[\"']?https?:", re.I)
SECTION = re.compile(r"^## ", re.M)


# ---------------------------------------------------------------------------------------------
# The staged sources, made in memory from the repository


def _github_url(path: str) -> str:
    return f"{launch.REPO_URL}/blob/{launch.BRANCH}/{path}"


def site_markdown(text: str, folder: str, pages: set[str], images: set[str]) -> str:
    """Markdown as the site shows it. ``folder`` is where the text lives in the repository and
    ``pages`` are the repository paths that are pages of the site (``notebooks/….ipynb``).

    Badges become plain links. A relative link stays when it leads to a page (Sphinx resolves
    it) and goes to the file on GitHub otherwise; a relative image stays and its repository
    path is added to ``images`` (staged with the pages). Images from other hosts are refused."""
    text = BADGES.sub(lambda row: " · ".join(
        f"[{alt}]({target})" for alt, target in BADGE.findall(row.group())), text)

    def relink(match: re.Match[str]) -> str:
        bang, label, target = match.groups()
        if re.match(r"[a-z][a-z0-9+.-]*:|#", target, re.I):  # a URL or an anchor on the page
            return match.group()
        path, _, fragment = target.partition("#")
        path = posixpath.normpath(posixpath.join(folder, path))
        if bang:
            images.add(path)
            return match.group()
        if path in pages:
            return match.group()
        return f"[{label}]({_github_url(path)}{f'#{fragment}' if fragment else ''})"

    text = LINK.sub(relink, text)
    if EXTERNAL_IMAGE.search(text):
        raise ValueError(f"an image from another host in {folder or 'README.md'}: the site "
                         "must not load it (link to it instead)")
    return text


def landing_page(readme: str, pages: set[str], images: set[str]) -> str:
    """The README's title and intro (everything before its first section) and its chapter
    map (the "Chapters" section)."""
    sections = SECTION.split(readme)
    chapters = [s for s in sections[1:] if s.startswith("Chapters\n")]
    if len(chapters) != 1:
        raise ValueError("README.md must have exactly one '## Chapters' section")
    text = f"{sections[0].rstrip()}\n\n## {chapters[0].rstrip()}\n"
    return site_markdown(text, "", pages, images)


def widget_note(notebook: str) -> str:
    browser = launch.browser_url(notebook)
    return (f'<div class="admonition note widget-note">\n'
            f'<p class="admonition-title">Interactive widget</p>\n'
            f"<p>This cell shows an interactive widget: run the notebook in Jupyter to use it "
            f'(<a href="{html.escape(launch.colab_url(notebook))}">Open in Colab</a> · '
            f'<a href="{html.escape(launch.binder_url(notebook))}">Launch on Binder</a>'
            + (f' · <a href="{html.escape(browser)}">Run in the browser</a>' if browser else "")
            + ").</p>\n</div>")


def site_notebook(path: Path, pages: set[str], images: set[str]) -> nbformat.NotebookNode:
    """The notebook as its page shows it (see the module's docstring)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = site_markdown(cell.source, "notebooks", pages, images)
        elif cell.cell_type == "code" and cell.source.startswith(launch.SETUP_CELL_MARKER):
            cell.metadata.setdefault("tags", []).append("remove-cell")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if data.get("text/plain") == WIDGET_PLACEHOLDER:
                data["text/html"] = widget_note(path.name)
    return nb


def site_sources() -> dict[str, bytes]:
    """Every file of build/book/src, by its path there. Nothing is written."""
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    pages, images = {f"notebooks/{p.name}" for p in notebooks}, set()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    texts = {"index.md": landing_page(readme, pages, images)}
    for path in notebooks:
        texts[f"notebooks/{path.name}"] = nbformat.writes(site_notebook(path, pages, images))
    texts["_toc.yml"] = "\n".join(["format: jb-book", "root: index", "chapters:"]
                                  + [f"  - file: notebooks/{p.stem}" for p in notebooks])
    texts["_config.yml"] = ((BOOK / "_config.yml").read_text(encoding="utf-8")
                            + "\nrepository:  # from course_lib/launch.py\n"
                            f"  url: {launch.REPO_URL}\n  branch: {launch.BRANCH}")
    files = {name: (text + "\n").encode() for name, text in texts.items()}
    files.update({image: (ROOT / image).read_bytes() for image in sorted(images)})
    return files


def source_digest(files: dict[str, bytes]) -> str:
    """A digest of the staged sources and of what decides how they are built."""
    digest = hashlib.sha256()
    inputs = {**files, **{f"/{name}": (ROOT / name).read_bytes() for name in BUILD_INPUTS}}
    for name in sorted(inputs):
        digest.update(name.encode() + b"\0" + hashlib.sha256(inputs[name]).digest())
    return digest.hexdigest()


def is_up_to_date() -> bool:
    """Whether build/book/html was built, without a warning, from the repository as it is."""
    return (DIGEST.is_file() and (HTML / "index.html").is_file()
            and DIGEST.read_text().strip() == source_digest(site_sources()))


def missing_tools() -> str | None:
    """Why this interpreter cannot build the site, or None when it can."""
    if importlib.util.find_spec("jupyter_book") is None:
        return "Jupyter Book is not installed (`make book` installs requirements-book.txt)"
    if shutil.which("npm") is None:
        return "npm is not on PATH (it installs MathJax from book/package-lock.json)"
    return None


# ---------------------------------------------------------------------------------------------
# Staging and building


def stage(files: dict[str, bytes]) -> None:
    """Write build/book/src. Unchanged files are left alone, so that Sphinx rebuilds only the
    pages whose source changed; files no longer staged (a renamed notebook) are removed."""
    for name, content in files.items():
        path = SRC / name
        if not path.is_file() or path.read_bytes() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    for path in [p for p in SRC.rglob("*") if p.is_file()]:
        if path.relative_to(SRC).as_posix() not in files and path.name != "conf.py":
            path.unlink()


def stage_mathjax() -> None:
    """Install MathJax with npm (when the lock file changed) and copy the files the site
    serves into build/book/static/mathjax."""
    npm_ci(BOOK, NPM)
    package = NPM / "node_modules" / "mathjax"
    version = json.loads((package / "package.json").read_text())["version"]
    target = STATIC / "mathjax"
    if (target / "VERSION").is_file() and (target / "VERSION").read_text() == version:
        return
    if target.exists():
        shutil.rmtree(target)
    for name in MATHJAX_FILES:
        source = package / "es5" / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    shutil.copy2(package / "LICENSE", target / "LICENSE")
    (target / "VERSION").write_text(version)


# (pattern, replacement, how many times per page at least): the theme's markup, step 4.
THEME_FIXES = (
    (re.compile(r'(<button class="btn search-button-field [^"]*"[^>]*?) aria-label="Search"'),
     r"\1", 1),
    (re.compile(r'<i class="theme-switch ([^"]*)" data-mode="(\w+)"\s+title="[^"]*">'),
     r'<i aria-hidden="true" class="theme-switch \1" data-mode="\2">', 3),
)


def name_buttons_as_shown(html_dir: Path) -> int:
    """Step 4 on every page of ``html_dir``; how many pages changed. A page that lacks a
    button the fix is for fails the build: the theme's markup changed, look again."""
    changed = 0
    for page in sorted(html_dir.rglob("*.html")):
        if page.relative_to(html_dir).parts[0].startswith("_"):  # the theme's own files
            continue
        text = page.read_text(encoding="utf-8")
        new = text
        for pattern, replacement, least in THEME_FIXES:
            new, count = pattern.subn(replacement, new)
            if count < least and 'aria-hidden="true" class="theme-switch' not in text:
                raise SystemExit(f"build_book: {page.relative_to(html_dir)} has {count} of the "
                                 f"theme's elements matching {pattern.pattern!r}; expected "
                                 f"{least} or more")
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def build() -> None:
    reason = missing_tools()
    if reason:
        raise SystemExit(f"build_book: {reason}")
    files = site_sources()
    DIGEST.unlink(missing_ok=True)
    stage(files)
    stage_mathjax()
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "jupyter-book", "config", "sphinx", SRC], check=True,
                   stdout=subprocess.DEVNULL)
    # -W: a warning fails the build; --keep-going: report every warning before failing.
    subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                    "-d", DOCTREES, SRC, HTML], check=True)
    name_buttons_as_shown(HTML)
    DIGEST.write_text(source_digest(files) + "\n")
    print(f"build_book: the site is in {HTML.relative_to(ROOT)} "
          f"(open {(HTML / 'index.html').relative_to(ROOT)})")


if __name__ == "__main__":
    try:
        build()
    except subprocess.CalledProcessError as error:
        sys.exit(f"build_book: {' '.join(map(str, error.cmd))} failed ({error.returncode})"
                 + (f"\n{error.stderr[-2000:]}" if error.stderr else ""))
