"""MkDocs hooks for gdlab's site: what the site shows of gdlab is made by gdlab at build time.

- the pictures of the guides (``images/gen/*.png``), drawn with ``gdlab.plot`` and saved with
  ``gdlab.figure_bytes``, so none is committed by hand;
- the lecture as a readable page in English and Korean (``lesson/en.md``, ``lesson/ko.md``),
  from the lesson's own text (``gdlab._lesson``), with gdlab's values computed at the lecture's
  settings beside the lecture's prints;
- each command's ``--help`` in the command-line guide (``<!-- gdlab-help VERB -->``);
- the table of modules on the development page (``<!-- gdlab-layout -->``), from each module's
  docstring, so it cannot fall behind the tree.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "gdlab"
_HELP = re.compile(r"<!-- gdlab-help ?([a-z]*) -->")


def on_files(files: Files, config: Any) -> Files:
    for name, content in pictures().items():
        files.append(File.generated(config, f"images/gen/{name}", content=content))
    for lang in ("en", "ko"):
        files.append(File.generated(config, f"lesson/{lang}.md", content=lesson_page(lang)))
    return files


def on_post_page(output: str, page: Any, config: Any) -> str:
    """The Korean lecture's page says it is Korean (``<html lang="ko">``: screen readers and fonts)."""
    if page.file.src_uri == "lesson/ko.md":
        return re.sub(r'<html lang="[^"]*"', '<html lang="ko"', output, count=1)
    return output


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    markdown = _HELP.sub(lambda m: command_help(m.group(1)), markdown)
    return markdown.replace("<!-- gdlab-layout -->", layout_table())


# --- pictures ---------------------------------------------------------------------------


def pictures() -> dict[str, bytes]:
    """Every picture the guides show, by file name."""
    import numpy as np

    import gdlab

    loss = lambda b: (b / 2 - 1) ** 2  # noqa: E731 - the lecture's loss, as the guides write it
    slow = gdlab.descend(loss, -10.0, lr=0.01 / 6, steps=10000)
    four = [gdlab.descend(loss, -10.0, lr=lr, steps=40) for lr in (0.5, 2, 4, 5)]
    wide = gdlab.sweep(loss, -10.0, lrs=gdlab.rates(1e-3, 10, 80), steps=1000, tol=1e-8)
    grid = gdlab.phase(
        loss, -10.0, lrs=gdlab.rates(1e-3, 10, 40), momenta=np.linspace(0, 0.9, 10), steps=1000
    )
    cafe_gd = gdlab.fit("cafe", y="y", x="x", method="gd", lr=0.05)
    rng = np.random.default_rng(0)
    t = np.linspace(0, 10, 40)
    decay = {"t": t, "y": 3 * (1 - np.exp(-0.4 * t)) + 0.05 * rng.standard_normal(40)}
    lm = gdlab.fit(decay, y="y", model="b1*(1-exp(-b2*t))", init={"b1": 1, "b2": 0.1}, method="lm")
    figures = {
        "descent.png": gdlab.plot(slow),
        "learning-rates.png": gdlab.plot(four, layout="panels"),
        "history.png": gdlab.plot(four, history=True),
        "sweep.png": gdlab.plot_sweep(wide),
        "phase.png": gdlab.plot(grid),
        "grid.png": gdlab.plot_grid(gdlab.grid_search(loss, np.linspace(-10, 10, 100))),
        "fit-cafe.png": cafe_gd.plot(),
        "fit-decay.png": lm.plot(),
    }
    import matplotlib.pyplot as plt

    out = {name: gdlab.figure_bytes(figure, "png") for name, figure in figures.items()}
    plt.close("all")
    return out


# --- the lesson -----------------------------------------------------------------------------

_WORDS = {
    "intro": (
        "The lecture this project grew out of, chapter by chapter: what it says, what it printed, "
        "and gdlab's value at the lecture's settings (computed when this page was built). "
        "To change the settings and watch the numbers move, open the live lesson: "
        '`gdlab lesson --lang en`, or `gdlab.lesson(lang="en")` in Jupyter.',
        "이 프로젝트의 출발점이 된 강의를 장별로 정리했습니다: 강의의 설명, 강의가 출력한 값, 그리고 "
        "강의 설정에서 gdlab이 계산한 값(이 페이지를 만들 때 계산). 설정을 바꾸며 값이 움직이는 것을 "
        "보려면 살아 있는 수업을 여세요: `gdlab lesson`, 또는 Jupyter에서 `gdlab.lesson()`.",
    ),
    "other": ("[한국어](ko.md)", "[English](en.md)"),
    "live": ("Live", "직접 해보기"),
}


def lesson_page(lang: str) -> str:
    """The lecture as one page in ``lang``: each chapter's words, numbers and code."""
    from gdlab._lesson import CHAPTERS
    from gdlab._lesson_text import UI

    i = 0 if lang == "en" else 1
    ui = {key: pair[i] for key, pair in UI.items()}
    lines = [f"# {ui['lesson']}", "", _WORDS["other"][i], "", _WORDS["intro"][i], ""]
    for number, chapter in enumerate(CHAPTERS, 1):
        lines += _chapter(number, chapter, lang, ui)
    return "\n".join(lines) + "\n"


def _chapter(number: int, chapter: Any, lang: str, ui: dict[str, str]) -> list[str]:
    live = chapter.at_lecture()
    lines = [f"## {number}. {chapter.title[lang]} {{#{chapter.key}}}", "", chapter.prose[lang], ""]
    lines += [f"| {ui['quantity']} | {ui['lecture']} | {ui['ours']} |", "| --- | ---: | ---: |"]
    for row, value in zip(chapter.rows, live.values, strict=True):
        printed = f"`{row.lecture}`" if row.lecture is not None else ui["none"]
        lines.append(f"| {_cell(row.label[lang])} | {printed} | `{value}` |")
    lines += ["", f"**{ui['code']}**", "", "```python", chapter.code_at().strip(), "```", ""]
    lines += [f'??? note "{ui["tf_code"]}"', "", "    ```python"]
    lines += [f"    {line}".rstrip() for line in chapter.tf_code.strip().splitlines()]
    lines += ["    ```", ""]
    lines += [f'!!! question "{ui["task"]}"', "", f"    {chapter.task[lang]}", ""]
    lines += [f'??? tip "{ui["hint"]}"', "", f"    {chapter.hint[lang]}", ""]
    if chapter.note[lang]:
        lines += [f'??? info "{ui["digits"]}"', "", f"    {chapter.note[lang]}", ""]
    command = f"gdlab lesson --chapter {chapter.key}" + (" --lang en" if lang == "en" else "")
    lines += [f"{_WORDS['live'][lang == 'ko']}: `{command}`", ""]
    return lines


def _cell(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|")


# --- the command line -----------------------------------------------------------------------


def command_help(verb: str) -> str:
    """``gdlab VERB --help`` (``gdlab --help`` for no verb) as the terminal shows it, 100 wide."""
    from typer.testing import CliRunner

    from gdlab.cli._app import app

    args = [verb, "--help"] if verb else ["--help"]
    result = CliRunner().invoke(app, args, terminal_width=100, env={"NO_COLOR": "1", "TERM": "dumb"})
    if result.exit_code != 0:
        raise RuntimeError(f"gdlab {' '.join(args)} failed: {result.output}")
    text = "\n".join(line.rstrip() for line in result.output.strip().splitlines())
    return f"```text\n$ gdlab {' '.join(args)}\n{text}\n```"


# --- the layout of the code -----------------------------------------------------------------


def layout_table() -> str:
    """A row per module and package of ``src/gdlab``: its path and its docstring's first line."""
    rows = ["| module | what it holds |", "| --- | --- |"]
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if "static" in relative.parts:
            continue
        name = str(relative.parent) + "/" if relative.name == "__init__.py" else str(relative)
        if name == "./":
            name = "__init__.py"
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        first = " ".join(doc.split("\n\n")[0].split())
        rows.append(f"| `{name}` | {_cell(first)} |")
    return "\n".join(rows)
