"""The ``gdlab`` command line: a thin typer layer over the public API.

Heavy imports (JAX) happen inside commands, so ``gdlab --help`` stays quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="gdlab",
    help="See and understand derivatives and gradient descent.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"gdlab {version('gdlab')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """See and understand derivatives and gradient descent."""


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the lecture's pictures (made if missing).")
    ] = Path("gdlab-demo"),
    pictures: Annotated[
        bool, typer.Option("--pictures/--no-pictures", help="Also draw the pictures.")
    ] = True,
) -> None:
    """Walk through the lecture: every number it prints, computed by gdlab beside it,
    then its pictures (loss curve, grid search, descent animations) in --out.

    Example:

        gdlab demo --out lecture-pictures
    """
    import time

    from rich.console import Console
    from rich.table import Table

    from gdlab._lecture import sections

    console = Console()
    if pictures:  # a bad --out fails before any work is done
        _check_folder(console, out)
    started = time.perf_counter()
    parts = sections()
    failed = 0
    for part in parts:
        table = Table(
            title=part.title,
            title_justify="left",
            caption=part.note or None,
            caption_justify="left",
        )
        for column, justify in (
            ("quantity", "left"),
            ("gdlab", "right"),
            ("reference", "right"),
            ("", "center"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for check in part.checks:
            failed += not check.ok
            mark = "[green]✓[/green]" if check.ok else "[red]✗[/red]"
            reference = check.shown(check.reference)
            reference += "" if check.source == "lecture" else " (theory)"
            table.add_row(check.label, check.shown(), reference, mark)
        console.print(table)
    total = sum(len(p.checks) for p in parts)
    seconds = time.perf_counter() - started
    if failed:
        console.print(f"[red]{failed} of {total} values differ from the lecture[/red]")
        raise typer.Exit(1)
    console.print(f"[green]all {total} values agree with the lecture[/green] ({seconds:.1f} s)")
    if pictures:
        _demo_pictures(console, out)


def _check_folder(console, out: Path) -> None:
    from gdlab._demo import output_folder

    try:
        output_folder(out)
    except ValueError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None


def _demo_pictures(console, out: Path) -> None:
    import time

    from gdlab._demo import lecture_pictures

    started = time.perf_counter()
    written = lecture_pictures(out)
    console.print(f"pictures ({time.perf_counter() - started:.1f} s):")
    for path in written:
        console.print(f"  {path}")


def main() -> None:
    """Entry point of the ``gdlab`` script."""
    app()
