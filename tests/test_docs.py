"""The documentation site has an entry for every public name and every command.

The site itself is built, with warnings as errors, by ``make docs`` in ``.ci/run``: a broken
link, an unresolved cross-reference or a name mkdocstrings cannot find fails that build. These
tests check what the build cannot know it is missing: a public name or a command that no page
mentions at all.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import typer.main

import gdlab
from gdlab.cli._app import app

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
ENTRY = re.compile(r"^::: gdlab\.([A-Za-z_][A-Za-z0-9_.]*)\s*$", flags=re.M)


def api_entries() -> list[str]:
    """Every ``::: gdlab.NAME`` of the API pages, in page order (duplicates kept)."""
    pages = sorted((DOCS / "api").glob("*.md"))
    return [name for page in pages for name in ENTRY.findall(page.read_text(encoding="utf-8"))]


def test_every_public_name_has_an_api_entry():
    entries = api_entries()
    missing = sorted(set(gdlab.__all__) - set(entries))
    assert not missing, f"no '::: gdlab.NAME' in docs/api/*.md for {missing}"
    twice = sorted({name for name in entries if entries.count(name) > 1})
    assert not twice, f"documented on more than one API page: {twice}"


def test_every_api_entry_names_something_that_exists():
    for entry in api_entries():
        value: object = gdlab
        for part in entry.split("."):
            value = getattr(value, part)  # AttributeError names a stale entry


def test_every_command_has_a_section_in_the_cli_guide():
    guide = (DOCS / "guides" / "cli.md").read_text(encoding="utf-8")
    commands = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert {"grad", "grid", "run", "sweep", "phase", "fit", "demo", "serve", "lesson"} <= set(commands)
    for command in commands:
        assert f"\n## gdlab {command}\n" in guide, f"no '## gdlab {command}' section in docs/guides/cli.md"
        assert f"<!-- gdlab-help {command} -->" in guide, f"the {command} section does not show its --help"
    sections = set(re.findall(r"^## gdlab (\w+)$", guide, flags=re.M))
    assert sections == set(commands), f"sections for commands that do not exist: {sections - set(commands)}"


def test_every_guide_and_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    missing = sorted(page for page in pages if f": {page}\n" not in nav)
    assert not missing, f"pages not in mkdocs.yml's nav: {missing}"


def test_the_readme_links_only_to_files_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", readme)
    assert len(targets) >= 10
    missing = [target for target in targets if not (ROOT / target).exists()]
    assert not missing, f"README links to missing files: {missing}"


@pytest.fixture(scope="module")
def hooks():
    pytest.importorskip("mkdocs", reason="mkdocs is in requirements/dev.lock; without it there are no hooks")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import docs_hooks

        yield docs_hooks
    finally:
        sys.path.remove(str(ROOT / "tools"))


def test_the_lesson_page_is_the_lessons_text_with_gdlabs_values(hooks):
    from gdlab._lesson import CHAPTERS

    pages = {lang: hooks.lesson_page(lang) for lang in ("en", "ko")}
    for chapter in CHAPTERS:
        for lang, page in pages.items():
            assert chapter.title[lang] in page and chapter.prose[lang] in page
            assert chapter.code_at().strip() in page
        for row in chapter.rows:
            if row.lecture is not None:
                assert f"`{row.lecture}`" in pages["en"]
    assert "| sales y[0] | `55.4183651` | `55.4183651` |" in pages["en"]  # gdlab's value beside the print
    assert "| argmin index | `59` | `59` |" in pages["en"]


def test_the_layout_table_lists_every_module(hooks):
    table = hooks.layout_table()
    package = ROOT / "src" / "gdlab"
    for path in package.rglob("*.py"):
        if "static" in path.parts:
            continue
        relative = path.relative_to(package)
        package_init = relative.name == "__init__.py" and relative.parent.parts
        name = f"{relative.parent}/" if package_init else str(relative)
        assert f"| `{name}` |" in table
    rows = {row.split(" | ")[0]: row for row in table.splitlines()}
    assert "A safe expression language for losses" in rows["| `_expr.py`"]


def test_the_cli_help_on_the_site_is_the_commands_own(hooks):
    text = hooks.command_help("run")
    assert text.startswith("```text\n$ gdlab run --help\n") and "--lr" in text and "--steps" in text


def test_the_korean_lecture_page_says_it_is_korean(hooks):
    import types

    page = types.SimpleNamespace(file=types.SimpleNamespace(src_uri="lesson/ko.md"))
    other = types.SimpleNamespace(file=types.SimpleNamespace(src_uri="lesson/en.md"))
    html = '<!doctype html>\n<html lang="en" class="no-js">\n<body>강의</body></html>'
    assert '<html lang="ko" class="no-js">' in hooks.on_post_page(html, page, None)
    assert hooks.on_post_page(html, other, None) == html
