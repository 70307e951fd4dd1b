"""The ``gdlab`` command line's commands: a thin typer layer over the public API.

Heavy imports (JAX) happen inside commands, so ``gdlab --help`` stays quick.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from gdlab._checks import DEFAULT_STEPS, LIMITS, SEED_MAX, InputError, closest, spelled
from gdlab._methods import METHODS, fit_methods, least_squares_methods, listed


class Command(TyperCommand):
    """A command whose usage errors say what to type instead.

    An unknown option is answered with the nearest known one (``--step``: did you mean
    ``--steps``?); words left over after the options say why (a switch such as ``--json``
    takes no value; a loss with spaces needs quotes); switches show no type in the help.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if getattr(param, "is_flag", False):
                param.metavar = ""  # a switch takes no value: show none
            _take_words_as_given(param)
        if self.help:
            self.help = reflowed(self.help)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
            _take_words_as_given(option)
        return option

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        options, given = self._options(ctx), list(args)  # the parser consumes args
        for token in given:
            if token == "--":
                break
            name = token.split("=", 1)[0]
            if name.startswith("--") and name not in options:
                ctx.fail(f"no such option {name}{_nearest(name, options)}; see gdlab {self.name} --help")
            if f"-{name}" in options and len(name) > 2:  # -lr for --lr (a loss -lr would need --)
                ctx.fail(f"{name} is not an option: options start with two dashes, as in -{name}")
        ctx.allow_extra_args = True  # left-over words are explained below, not just listed
        rest = super().parse_args(ctx, args)
        if rest:
            ctx.fail(self._left_over(given, rest, options))
        return rest

    def _options(self, ctx) -> dict[str, bool]:
        """Every option's spellings, each with whether it is a switch (takes no value)."""
        found = {}
        for param in self.get_params(ctx):
            for name in (*param.opts, *param.secondary_opts):
                if name.startswith("-"):
                    found[name] = bool(getattr(param, "is_flag", False))
        return found

    def _left_over(self, args: list[str], rest: list[str], options: dict[str, bool]) -> str:
        word = rest[0]
        position = args.index(word) if word in args else 0
        before = args[position - 1] if position > 0 else ""
        if options.get(before):
            return f"{before} is a switch and takes no value: write {before} alone, without {word!r}"
        return (
            f"unexpected {' '.join(repr(w) for w in rest)}: give the loss once, in quotes if it has "
            f'spaces, as in gdlab {self.name} "(b/2 - 1)^2" ...'
        )


class _Words:
    """How an option given as text (or a path, or a switch) reads its words: as click hands them over.

    Typer would build a pydantic validator for each such option to turn text into text, which
    imports pydantic (about a tenth of a second of every command that runs); gdlab checks every
    value itself (:mod:`gdlab.cli._options`), with its own messages.
    """

    def __init__(self, kind: type) -> None:
        self.kind = kind

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if param.multiple or param.nargs == -1:  # a repeated option: its words, as a list
            return [self.kind(word) for word in value or ()]
        return None if value is None else self.kind(value)


# The parameter types read as click gives them (text, a path, a repeated text option, a switch,
# which click already makes True or False); what each word becomes. Numbers (read by a parser of
# gdlab's) and anything else keep typer's coercion.
_AS_GIVEN: tuple[tuple[Any, type], ...] = ((str, str), (Path, Path), (list[str], str), (bool, bool))


def _take_words_as_given(param: Any) -> None:
    """Give a text, path or switch parameter the plain reading of :class:`_Words` (typer versions that
    coerce through pydantic keep a ``_runtime_param`` per parameter; others are left as they are)."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    kind = next((kind for given, kind in _AS_GIVEN if annotation == given), None)
    if kind is not None and getattr(param, "_runtime_param", False) is None:
        param._runtime_param = _Words(kind)


def _nearest(name: str, choices) -> str:
    close = closest(name, choices)
    return f" (did you mean {close}?)" if close else ""


def reflowed(text: str) -> str:
    r"""A docstring's paragraphs each on one line (the help wraps them to the terminal; a line break
    kept from the source would break a sentence mid-line); indented lines (examples) stay as they are.

    Example:
        >>> reflowed("One line\n    and its rest.\n\n    Example:\n\n        gdlab run x")
        'One line and its rest.\n\nExample:\n\n    gdlab run x'
    """
    import inspect

    out: list[str] = []
    for line in inspect.cleandoc(text).splitlines():
        joins = out and out[-1] and line and not line.startswith(" ") and not out[-1].startswith(" ")
        if joins and not out[-1].endswith(":"):
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)


class Group(TyperGroup):
    """The command group: its switches (``--version``, ``--help``) show no type in the help, as the
    commands' do."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
            _take_words_as_given(param)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
            _take_words_as_given(option)
        return option


app = typer.Typer(
    name="gdlab",
    cls=Group,
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


def _draws(options: dict[str, Any]) -> bool:
    """Whether a command's options ask for a picture, an animation or the demo's pictures."""
    from gdlab.cli._options import KINDS

    out = options.get("out")
    if out is None or not options.get("pictures", True):
        return False
    return Path(out).suffix.lower() not in KINDS["table"]


def _no_property_tables() -> None:
    """Have matplotlib write no table of properties into its artists' docstrings.

    As each artist class is made (Line2D, Text, Rectangle, ...), matplotlib writes a docstring
    for its ``set()`` listing every property it takes, and registers the same table for other
    docstrings; that is a third of its import time (about 0.1 s of ``gdlab run ... --out
    descent.gif``). A command's own process (:func:`main`) never shows a docstring, so there
    the tables are left empty; the classes, ``set()`` and its signature are as before, and so is
    every picture. A program that calls ``app`` itself keeps matplotlib as it is.
    """
    import matplotlib.artist

    matplotlib.artist.kwdoc = _empty_table


def _empty_table(artist: object) -> str:
    return ""


def _os_error(err: OSError) -> str:
    """An operating system's refusal in words, with what to do (no traceback: nothing is wrong
    with gdlab or the input; files are written to a temporary name, so none was left half done)."""
    import errno

    what = f"{err.strerror or err}" + (f": {err.filename}" if err.filename else "")
    fix = {
        errno.ENOSPC: "free some space, or write elsewhere (--out for the demo and pictures)",
        errno.EDQUOT: "free some space, or write elsewhere (--out for the demo and pictures)",
        errno.EACCES: "write to a folder you may write to (--out for the demo and pictures)",
        errno.EROFS: "write to a folder you may write to (--out for the demo and pictures)",
    }.get(err.errno or 0, "check the path and try again")
    return f"{what}; {fix} (nothing was left half written)"


def _guarded(body):
    """Run a command body: bad input exits 2 with its message, any other failure exits 1, Ctrl-C 130."""
    import functools

    @functools.wraps(body)
    def run(*args, **kwargs):
        from gdlab._cache import enable_compilation_cache
        from gdlab._cancel import ctrl_c_remembered
        from gdlab.cli._options import CLI

        enable_compilation_cache()
        if _OWN_PROCESS and _draws(kwargs):
            _no_property_tables()
        try:
            with ctrl_c_remembered():
                result = body(*args, **kwargs)
        except typer.Exit:
            raise
        except InputError as err:  # ExpressionError is an InputError too
            typer.echo(f"error: {err.spelled(CLI)}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            _exit_now(130)
        except OSError as err:  # a full disk, a folder we may not write: the machine's, not a bug
            typer.echo(f"error: {_os_error(err)}", err=True)
            raise typer.Exit(1) from None
        except Exception as err:
            typer.echo(f"error: the run failed: {type(err).__name__}: {err}", err=True)
            raise typer.Exit(1) from None
        if kwargs.get("json_output") and result is not None:
            from gdlab._json import dumps

            typer.echo(dumps(spelled(result, CLI)))  # strict JSON: NaN and infinities are null

    return run


@app.command(cls=Command)
@_guarded
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the lecture's pictures (made if missing).")
    ] = Path("gdlab-demo"),
    pictures: Annotated[
        bool, typer.Option("--pictures/--no-pictures", help="Also draw the pictures.")
    ] = True,
) -> None:
    """Walk through the lecture: every number it prints beside gdlab's, then its pictures.

    The pictures go to --out: the loss curve, grid search, descent animations, learning-rate
    sweeps, SGD on the cafe data, gd, momentum, adam, newton and lm side by side, and a fit
    whose line moves as it descends.

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


def _console(json_output: bool = False):
    from rich.console import Console

    return Console(stderr=json_output)


def _exit_now(code: int) -> NoReturn:
    """Exit at once, past the interpreter's teardown: after Ctrl-C a chunk of compiled work may still
    be running, and tearing JAX down under it takes a second or more and can crash (exit -11).
    The work's own ``finally`` blocks have run by now (a half-written file is already removed)."""
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


Data = Annotated[
    str | None,
    typer.Option("--data", metavar="FILE", help="CSV file whose columns the loss names, or 'cafe'."),
]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
Lang = Annotated[
    str,
    typer.Option(
        "--lang", metavar="LANG", help="The words of --out's picture or animation: en (default) or ko."
    ),
]
Out = Annotated[
    Path | None, typer.Option("--out", metavar="FILE", help="Write a file; its extension picks the format.")
]
Expr = Annotated[
    str,
    typer.Argument(
        metavar="LOSS", help="The loss, e.g. '(b/2-1)^2' (one starting with - is fine: '-exp(b)')."
    ),
]
Init = Annotated[list[str], typer.Option("--init", metavar="START", help="Start: -10, or b0=9,b1=2.")]
MethodName = Annotated[
    str,
    typer.Option(
        "--method",
        metavar="NAME",
        help=f"{listed(n for n, m in METHODS.items() if m.needs_lr)}; "
        f"{' or '.join(n for n, m in METHODS.items() if not m.needs_lr)} (run only: they set their own step, "
        "so no --lr).",
    ),
]
Tol = Annotated[
    str | None, typer.Option("--tol", metavar="NUMBER", help="Stop once the gradient norm is below this.")
]


# A loss may begin with a minus sign ("-exp(b)"): such an argument is the loss, not an unknown option.
LOSS_FIRST = {"ignore_unknown_options": True}


@app.command(cls=Command, context_settings=LOSS_FIRST)
@_guarded
def grad(
    expr: Expr,
    at: Annotated[
        list[str], typer.Option("--at", metavar="POINT", help="Where: b=9 (repeat or comma-separate).")
    ],
    data: Data = None,
    json_output: Json = False,
):
    """The derivative of a loss: symbolic, autodiff and finite differences, and whether they agree.

    Each parameter's derivative is printed as a formula beside its three values; --json prints them as JSON.

    Example:

        gdlab grad "(b/2-1)^2" --at b=-10

        gdlab grad "sum((y - b0 - b1*x)^2)" --at b0=9,b1=2 --data cafe
    """
    from gdlab._gradreport import gradient_report
    from gdlab.cli import _options

    loss = _options.expression(expr, _options.load_data(data, expr))
    given = _options.settings(at, loss, "--at", vectors=False, source=data)
    point = _options.computable(loss, given, "--at", vectors=False)
    report = gradient_report(loss, point)
    if json_output:
        return report.to_dict()
    from rich.table import Table

    table = Table(
        title=f"d/d{{{', '.join(loss.params)}}} {loss.text} at {_show(report.at)}", title_justify="left"
    )
    for column in ("parameter", "derivative", "symbolic", "autodiff", "finite diff"):
        table.add_column(column, justify="left" if column in ("parameter", "derivative") else "right")
    for r in report.rows:
        table.add_row(
            r.parameter,
            r.derivative or "(no symbolic form: autodiff only)",
            _num(r.symbolic),
            _num(r.autodiff),
            _num(r.finite_difference),
        )
    console = _console()
    console.print(table)
    verdict = "[green]they agree[/green]" if report.agree else "[red]they disagree[/red]"
    console.print(
        f"loss {report.loss:.10g}; {verdict} (largest relative difference {report.max_rel_error:.2g})"
    )
    for note in report.notes:
        console.print(f"note: {spelled(note, _options.CLI)}")
    return None


@app.command(cls=Command, context_settings=LOSS_FIRST)
@_guarded
def grid(
    expr: Expr,
    range_: Annotated[
        list[str], typer.Option("--range", metavar="RANGE", help="-10:10, or b1=0:4 per parameter.")
    ],
    num: Annotated[
        str, typer.Option("--num", metavar="N", help="Points per parameter (1e3 is fine).")
    ] = "100",
    data: Data = None,
    out: Out = None,
    lang: Lang = "en",
    json_output: Json = False,
):
    """Grid search: the loss at every point of a grid, and the best one.

    --out draws the loss over the grid (.png, .svg, .pdf).

    Example:

        gdlab grid "(b/2-1)^2" --range -10:10 --num 100 --out grid.png
    """
    import warnings

    import numpy as np

    from gdlab._checks import size
    from gdlab._grid import grid_search
    from gdlab.cli import _options

    loss = _options.expression(expr, _options.load_data(data, expr))
    spans = _spans(range_, loss)
    if "@" in loss.text or ".T" in loss.text:
        raise InputError(
            f"grid searches one number per parameter; {loss.text} is a matrix form (@, .T) of vector "
            "parameters: use run or sweep with --init beta=[9,2], say"
        )
    _options.check_out(out, ("picture",), lang)
    points = _options.whole_number(num, "--num", "the number of points", low=1, high=LIMITS.grid_points)
    if out is not None and len(loss.params) > 2:
        raise InputError(
            f"--out {out}: a grid picture draws one or two parameters; this loss has "
            f"{len(loss.params)} ({', '.join(loss.params)}); leave out --out"
        )
    size(
        "grid points",
        points ** len(loss.params),
        LIMITS.grid_points,
        f"--num {points} over {len(loss.params)} parameter(s) is too many; use a smaller --num",
    )
    axes = {name: np.linspace(*spans[name], points) for name in loss.params}
    with warnings.catch_warnings():  # they are in the result, and printed below
        warnings.simplefilter("ignore")
        result = grid_search(lambda p: loss.function(p), axes)
    summary = {"expression": loss.text, **result.to_dict(), "out": None}
    if len(result.axes) == 1:
        summary["index"] = result.index[0] if isinstance(result.index, tuple) else result.index
    console = _console(json_output)
    if not json_output:
        console.print(
            f"best {_show(result.best)} (index {summary['index']}), loss {result.loss:.10g}, "
            f"{result.evaluations:,} evaluations"
        )
        for message in result.warnings:
            console.print(f"[yellow]warning:[/yellow] {spelled(message, _options.CLI)}")
    if out is not None:
        from gdlab import plot_grid, save_figure

        summary["out"] = str(
            save_figure(plot_grid(result, title=f"grid search of {loss.text}", lang=lang), out)
        )
        if not json_output:
            console.print(f"wrote {summary['out']}")
    return summary if json_output else None


@app.command(cls=Command, context_settings=LOSS_FIRST)
@_guarded
def run(
    expr: Expr,
    init: Init,
    lr: Annotated[
        str | None,
        typer.Option(
            "--lr",
            metavar="NUMBER",
            help="Learning rate; arithmetic such as 0.01/6 is fine (newton and lbfgs set their own step).",
        ),
    ] = None,
    steps: Annotated[
        str, typer.Option("--steps", metavar="N", help="Most steps to take (1e3 is fine).")
    ] = "100",
    method: MethodName = "gd",
    tol: Tol = None,
    data: Data = None,
    out: Out = None,
    frames: Annotated[
        str,
        typer.Option("--frames", metavar="N", help="Frames of an animation (log-spaced past 1,000 steps)."),
    ] = "100",
    lang: Lang = "en",
    json_output: Json = False,
):
    """Gradient descent on a loss: a summary, and a picture, animation or table with --out.

    --out takes .gif, .mp4, .html (animations), .png, .svg, .pdf (pictures), .csv, .json (every step).

    Example:

        gdlab run "(b/2-1)^2" --init -10 --lr 0.01/6 --steps 100 --out descent.gif

        gdlab run "(y-X@b).T@(y-X@b)" --init "b=[9,2]" --lr 1e-5 --data cafe
    """
    from gdlab._descend import descend
    from gdlab.cli import _options

    loss, start, stop = _options.problem(expr, data, init, tol)
    _options.check_out(out, ("animation", "picture", "table"), lang)
    count = _options.whole_number(steps, "--steps")
    pictures = _options.whole_number(frames, "--frames", "the number of frames", low=1)
    name = _method(method)
    rate = _rate(lr, name)
    path = descend(loss.function, start, lr=rate, steps=count, method=name, tol=stop)
    summary = {"expression": loss.text, **path.summary(_options.CLI), "out": None}
    console = _console(json_output)
    if not json_output:
        from rich.table import Table

        table = Table(title=f"{path.label}: {loss.text}", title_justify="left")
        for column in ("", "start", "final"):
            table.add_column(column, justify="right")
        for name, first in summary["start"].items():  # a vector's components: beta[0], beta[1]
            table.add_row(name, f"{first:.10g}", _num(summary["final"][name]))
        table.add_row("loss", f"{float(path.loss[0]):.10g}", f"{path.final_loss:.10g}")
        console.print(table)
        console.print(path.message_in(_options.CLI))  # it says what happened: no status word before it
    if out is not None:
        summary["out"] = _write_path(path, out, pictures, lang)
        if not json_output:
            console.print(f"wrote {summary['out']}")
    return summary if json_output else None


@app.command(cls=Command, context_settings=LOSS_FIRST)
@_guarded
def sweep(
    expr: Expr,
    init: Init,
    lr: Annotated[
        str, typer.Option("--lr", metavar="RATES", help="Rates: 1e-4:10:log50, 0.1:2:20 or 0.1,0.5,2.")
    ],
    steps: Annotated[
        str, typer.Option("--steps", metavar="N", help="Steps for every rate (1e3 is fine).")
    ] = "1000",
    method: MethodName = "gd",
    tol: Tol = None,
    data: Data = None,
    out: Out = None,
    lang: Lang = "en",
    every: Annotated[bool, typer.Option("--all", help="Print every run, however many.")] = False,
    json_output: Json = False,
):
    """Sweep the learning rate: what each rate does (converged, oscillating, slow, diverged) and 2/L.

    Every rate runs in one compiled call; --out draws what each rate did (.png, .svg, .pdf).

    Example:

        gdlab sweep "(b/2-1)^2" --init -10 --lr 1e-4:10:log50 --out sweep.png
    """
    from gdlab._sweep import sweep as run_sweep
    from gdlab.cli import _options

    loss, start, stop = _options.problem(expr, data, init, tol)
    _options.check_out(out, ("picture",), lang)
    lrs = _options.rates(lr)
    count = _options.whole_number(steps, "--steps")
    name = _method(method, rated=True)
    result = run_sweep(loss.function, start, lrs=lrs, steps=count, method=name, tol=stop, save="final")
    summary = {
        "expression": loss.text,
        **result.to_dict(runs=json_output or every, spelling=_options.CLI),
        "out": None,
    }
    console = _console(json_output)
    if not json_output:
        _print_sweep(console, result, loss.text, every)
    if out is not None:
        from gdlab import plot_sweep, save_figure

        summary["out"] = str(
            save_figure(plot_sweep(result, title=f"{loss.text}: {len(result)} rates", lang=lang), out)
        )
        if not json_output:
            console.print(f"wrote {summary['out']}")
    return summary if json_output else None


@app.command(cls=Command, context_settings=LOSS_FIRST)
@_guarded
def phase(
    expr: Expr,
    init: Init,
    lrs: Annotated[
        str,
        typer.Option(
            "--lrs", metavar="RATES", help="Rates: 1e-3:10 (50 log-spaced), 1e-3:10:log200 or 0.1,0.5,2."
        ),
    ],
    momenta: Annotated[
        str,
        typer.Option(
            "--momenta",
            metavar="VALUES",
            help="Momenta in [0, 1): 0:0.99 (50 even), 0:0.99:200 or 0,0.5,0.9.",
        ),
    ] = "0:0.99",
    steps: Annotated[
        str, typer.Option("--steps", metavar="N", help="Steps for every cell (1e3 is fine).")
    ] = "1000",
    method: Annotated[
        str,
        typer.Option(
            "--method",
            metavar="NAME",
            help="momentum (heavy ball), nesterov, or adam (its b1 is the momentum).",
        ),
    ] = "momentum",
    tol: Tol = None,
    data: Data = None,
    out: Out = None,
    lang: Lang = "en",
    json_output: Json = False,
):
    """A phase diagram: every (rate, momentum) pair in one compiled call; on a quadratic, the theory too.

    --out draws the diagram, coloured by what each run did (.png, .svg, .pdf).

    Example:

        gdlab phase "(b/2-1)^2" --init -10 --lrs 1e-3:10 --out phase.png
    """
    from gdlab._phase import phase as run_phase
    from gdlab.cli import _options

    loss, start, stop = _options.problem(expr, data, init, tol)
    _options.check_out(out, ("picture",), lang)
    rates = _options.rates(lrs, "--lrs", count=50)
    values = _options.momenta(momenta, "--momenta", count=50)
    count = _options.whole_number(steps, "--steps")
    name = _method(method)  # a method without a momentum is refused by phase, in its words
    result = run_phase(loss.function, start, lrs=rates, momenta=values, steps=count, method=name, tol=stop)
    summary = {
        "expression": loss.text,
        **result.to_dict(notes=json_output, spelling=_options.CLI),
        "out": None,
    }
    console = _console(json_output)
    if not json_output:
        _print_phase(console, result, loss.text)
    if out is not None:
        from gdlab import plot, save_figure

        summary["out"] = str(
            save_figure(plot(result, title=f"{result.method} on {loss.text}", lang=lang), out)
        )
        if not json_output:
            console.print(f"wrote {summary['out']}")
    return summary if json_output else None


def _print_phase(console, result, text: str) -> None:
    """Per momentum (at most :data:`PHASE_ROWS` of them, evenly picked): the regimes along the rate,
    the largest rate that settled, and the theory's largest rate; then the counts and the theory."""
    import numpy as np
    from rich.table import Table

    rows, cols = result.shape
    shown = sorted(set(np.linspace(0, cols - 1, min(cols, PHASE_ROWS)).round().astype(int).tolist()))
    grid = f"{rows} rates x {cols} {result.setting} values"
    table = Table(title=f"{result.method} on {text}: {grid}, {result.steps:,} steps", title_justify="left")
    seen = [k for k, n in result.counts().items() if n]  # the regimes that occur
    for column in (result.setting, *seen, "settles up to lr"):
        table.add_column(column, justify="right")
    if result.boundary is not None:
        table.add_column("theory: up to lr", justify="right")
    for j in shown:
        regimes = result.regime[:, j]
        settles = np.isin(regimes, ("converged", "slow"))
        largest = f"{result.lrs[settles].max():.4g}" if settles.any() else "none"
        cells = [f"{result.momenta[j]:.4g}", *(str(int(np.sum(regimes == r))) for r in seen), largest]
        if result.boundary is not None:
            cells.append(f"{result.boundary.critical_lrs[j]:.4g}")
        table.add_row(*cells)
    console.print(table)
    counts = ", ".join(f"{n:,} {k}" for k, n in result.counts().items() if n)
    picked = f"; shown: {len(shown)} of the {cols} {result.setting} values" if len(shown) < cols else ""
    console.print(f"{rows * cols:,} cells ({counts}){picked}")
    if result.boundary is None:
        console.print(result.theory_note)
        return
    console.print(f"theory: {result.boundary.formula}")
    agree = result.agreement()
    console.print(
        f"away from the boundary, {agree['agree']:,} of {agree['cells']:,} cells agree with the theory"
    )
    if result.boundary.best is not None:
        lr, b = result.boundary.best
        console.print(f"fastest pair: lr={lr:.6g}, {result.setting}={b:.6g}")


# Momenta a phase's table shows at most (evenly picked); --json gives every cell.
PHASE_ROWS = 20


def _print_sweep(console, result, text: str, every: bool) -> None:
    """The sweep as a table: every run when asked or when few, else the runs around each regime change."""
    import itertools

    from rich.table import Table

    from gdlab.cli._options import CLI

    runs = result.runs(CLI)
    shown = list(range(len(runs)))
    if not every and len(runs) > LIMITS.table_rows:
        order = sorted(shown, key=lambda i: runs[i]["lr"])
        keep = {order[0], order[-1]}
        for a, b in itertools.pairwise(order):
            if runs[a]["regime"] != runs[b]["regime"]:
                keep |= {a, b}
        shown = sorted(keep, key=lambda i: runs[i]["lr"])
    table = Table(
        title=f"{result.method} on {text}: {len(result)} rates, {result.steps:,} steps", title_justify="left"
    )
    for column in ("lr", "regime", "steps", "final loss", "note"):
        table.add_column(column, justify="left" if column in ("regime", "note") else "right")
    for i in shown:
        r = runs[i]
        table.add_row(f"{r['lr']:.4g}", r["regime"], f"{r['steps']:,}", f"{r['final_loss']:.4g}", r["note"])
    console.print(table)
    if len(shown) < len(runs):
        counts = ", ".join(f"{n} {k}" for k, n in result.counts().items() if n)
        console.print(
            f"{len(runs):,} runs ({counts}); shown: the first, the last and the rates on either side "
            "of each change of regime; --all prints every run"
        )
    if result.stability is not None and math.isfinite(result.stability.critical_lr):
        console.print(_bound_note(result, runs))


def _bound_note(result, runs: list[dict]) -> str:
    """2/L and what it predicts for the largest rate, unless that run's own record says otherwise."""
    fastest = max(range(len(runs)), key=lambda i: runs[i]["lr"])
    rate, regime = runs[fastest]["lr"], runs[fastest]["regime"]
    bound = result.stability.critical_lr
    head = (
        f"2/L = {bound:.6g}, measured at the best run's end (a local bound, not a guarantee along "
        "the whole path)"
    )
    predicted = "diverged" if rate > bound else "converged"
    if regime in ("diverged", "converged") and regime != predicted:
        return (
            f"{head}; the largest rate, lr={rate:g}, {regime} although 2/L there says it would have "
            f"{predicted}: the curvature along its path differs from the curvature where 2/L was measured"
        )
    return f"{head}; the largest rate: {result.stability.explain(rate)}"


def _whole(option: str, low: int, noun: str, help: str, high: int = LIMITS.steps) -> Any:
    """A whole-number option (``metavar`` N) read as every numeric option is, arithmetic such as
    1e3 or 2*5 included; a value outside ``[low, high]`` is refused as a usage error."""

    def parse(text: str) -> int:
        from gdlab.cli import _options

        try:
            return _options.whole_number(str(text), option, noun, low=low, high=high)
        except InputError as err:
            _refuse(err)

    return typer.Option(option, metavar="N", parser=parse, help=help)


def _fit_method(name: str) -> str:
    """fit's --method, checked as it is read, so that a typo is answered with the nearest name."""
    from gdlab.fitting._settings import known

    try:  # the library's rule: its names and their aliases ("levenberg-marquardt" is lm)
        return known(name)
    except InputError as err:
        _refuse(err)


def _refuse(error: InputError) -> NoReturn:
    """Inside an option's parser: exit 2 with the message, as the commands do."""
    from gdlab.cli._options import CLI

    typer.echo(f"error: {error.spelled(CLI)}", err=True)
    raise typer.Exit(2)


@app.command(cls=Command)
@_guarded
def fit(
    path: Annotated[
        str, typer.Argument(metavar="DATA", help="A CSV or Parquet file with named columns, or 'cafe'.")
    ],
    formula: Annotated[
        str | None,
        typer.Argument(
            metavar="[FORMULA]",
            help="A model formula, as R and statsmodels write one: 'y ~ x + C(group) + log(z)' "
            "(instead of --y and --x).",
        ),
    ] = None,
    y: Annotated[str | None, typer.Option("--y", metavar="COLUMN", help="The response column.")] = None,
    x: Annotated[
        list[str] | None,
        typer.Option("--x", metavar="COLUMNS", help="Regressor columns: repeat --x, or x1,x2."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            metavar="FORMULA",
            help="A formula of columns and parameters, fitted by least squares: 'b1*(1-exp(-b2*x))'.",
        ),
    ] = None,
    family: Annotated[
        str,
        typer.Option(
            "--family",
            metavar="NAME",
            help="linear (gaussian), logistic (binomial, logit) for a 0/1 response or successes of "
            "--trials, or poisson for counts.",
        ),
    ] = "linear",
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            metavar="NAME",
            callback=lambda name: None if name is None else _fit_method(name),
            help=f"{listed(n for n in fit_methods() if n not in least_squares_methods())} (beside the closed "
            f"form, or beside lm for --model); {' or '.join(least_squares_methods())} for --model alone. "
            "Default: gd (linear, --x), the closed form alone (a formula with '~'), newton "
            "(logistic), lm (--model).",
        ),
    ] = None,
    init: Annotated[
        list[str] | None,
        typer.Option(
            "--init", metavar="NAME=VALUE", help="Starts of a formula's parameters: b1=500,b2=1e-4."
        ),
    ] = None,
    steps: Annotated[str, typer.Option("--steps", metavar="N", help="Steps of gd (1e4 is fine).")] = str(
        DEFAULT_STEPS
    ),
    epochs: Annotated[int, _whole("--epochs", 1, "the number of epochs", "Epochs of sgd.")] = 200,
    batch_size: Annotated[int, _whole("--batch-size", 1, "the batch size", "Rows a step for sgd.")] = 8,
    seed: Annotated[int, _whole("--seed", 0, "the seed", "Shuffling seed for sgd.", SEED_MAX)] = 0,
    lr: Annotated[
        str | None,
        typer.Option(
            "--lr", metavar="NUMBER", help="The rate (sgd: the starting rate); default: from the curvature."
        ),
    ] = None,
    intercept: Annotated[
        bool,
        typer.Option("--intercept/--no-intercept", help="Fit an intercept (default) or a line through 0."),
    ] = True,
    standardize: Annotated[
        bool,
        typer.Option(
            "--standardize/--no-standardize",
            help="Descend on standardised regressors (default), or on the raw columns as the lecture does.",
        ),
    ] = True,
    dropna: Annotated[
        bool,
        typer.Option(
            "--dropna", help="Drop rows with a missing value in the columns used, and say how many."
        ),
    ] = False,
    tol: Annotated[
        str | None,
        typer.Option(
            "--tol",
            metavar="NUMBER",
            help="Stop an iterative method once the gradient norm is this small "
            "(default: 1e-10 relative to the response's size).",
        ),
    ] = None,
    rcond: Annotated[
        str | None,
        typer.Option(
            "--rcond",
            metavar="NUMBER",
            help="The closed form's cut-off for dependent columns, a fraction of the largest pivot.",
        ),
    ] = None,
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--no-stream",
            help="Read a Parquet file in blocks instead of into memory (default: a directory, or a "
            "file too large for a table, is streamed).",
        ),
    ] = None,
    cov: Annotated[
        str,
        typer.Option(
            "--cov",
            metavar="NAME",
            help="The covariance behind standard errors, tests and intervals: nonrobust (default), "
            "HC0, HC1, HC2, HC3 (robust to heteroskedasticity) or cluster (with --groups).",
        ),
    ] = "nonrobust",
    groups: Annotated[
        str | None,
        typer.Option(
            "--groups",
            metavar="COLUMN",
            help="The column of cluster labels (numbers or text) of --cov cluster.",
        ),
    ] = None,
    trials: Annotated[
        str | None,
        typer.Option(
            "--trials", metavar="COLUMN", help="A binomial model's trials; --y then holds the successes."
        ),
    ] = None,
    weights: Annotated[
        str | None,
        typer.Option(
            "--weights",
            metavar="COLUMN",
            help="Weights, 0 or more: weighted least squares (linear), frequency weights (GLM).",
        ),
    ] = None,
    offset: Annotated[
        str | None,
        typer.Option(
            "--offset",
            metavar="EXPR",
            help="A column or an expression of columns added to the linear predictor: 'log(exposure)'.",
        ),
    ] = None,
    out: Out = None,
    lang: Lang = "en",
    json_output: Json = False,
):
    """Fit a model to a data file: the closed form beside descent, logistic, or a typed formula.

    A linear model is solved in closed form (QR) with standard errors and R²;
    a descent runs beside it on the standardised regressors (at the rate
    2/(mu+L) the curvature suggests; SGD at a rate for its batch size,
    decaying), then maps the coefficients back to the original units.
    --family logistic fits a 0/1 response by Newton's method, --family poisson
    counts (with --offset 'log(exposure)'), --family binomial --trials n the
    successes of n trials, and --weights w weighs the rows; --model fits a
    formula by Levenberg-Marquardt. --out draws the data, the fit and the
    residuals (.png, .svg or .pdf), or animates the fit step by step (.gif,
    .mp4 or .html).

    Example:

        gdlab fit sales.csv --y sales --x temp --method sgd

        gdlab fit claims.csv "claims ~ age + C(car)" --family poisson

        gdlab fit claims.csv "claims ~ age" --family poisson --offset "log(years)"

        gdlab fit growth.csv --y y --model "b1*(1-exp(-b2*t))" --init b1=3,b2=0.5
    """
    from gdlab.cli import _options
    from gdlab.fitting._fit import fit as fit_model

    _options.check_out(out, ("picture", "animation"), lang)
    plain = family == "linear" and model is None and formula is None and not (weights or offset)
    chosen = method if method is not None else ("gd" if plain else None)
    result = fit_model(
        path,
        formula,
        y=y,
        x=x or None,
        model=model,
        family=family,
        method=chosen,
        init=_options.starts(init) if init else None,
        steps=_options.whole_number(steps, "--steps"),
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        lr=None if lr is None else _options.value(lr, "--lr"),
        intercept=intercept,
        standardize=standardize,
        dropna=dropna,
        tol=None if tol is None else _options.value(tol, "--tol"),
        rcond=None if rcond is None else _options.value(rcond, "--rcond"),
        stream=stream,
        cov=cov,
        groups=groups,
        trials=trials,
        weights=weights,
        offset=offset,
    )
    if out is not None and out.suffix.lower() in _options.KINDS["animation"]:
        _save_movie(result, out, 100, lang)
    elif out is not None:
        from gdlab import save_figure

        save_figure(result.plot(lang=lang), out)
    if json_output:  # the table below lists the warnings; with --json they go to stderr
        for warning in result.warnings:
            typer.echo(f"warning: {spelled(warning, _options.CLI)}", err=True)
        return result.to_dict(_options.CLI)
    _console().print(result.summary(_options.CLI))
    if out is not None:
        _console().print(f"wrote {out}")
    return None


@app.command(cls=Command)
@_guarded
def serve(
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; the default answers this machine only."),
    ] = "127.0.0.1",
    port: Annotated[int, _whole("--port", 1, "the port", "Port to listen on.", 65535)] = 8000,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the page in a browser.")] = False,
):
    """The lab in a browser: type a loss, drag a start, race learning rates, share a link.

    It listens on 127.0.0.1 (this machine only) unless --host says otherwise, and warns when
    other machines can reach it. Ctrl-C stops it.

    Example:

        gdlab serve --open
    """
    import warnings

    from gdlab.web import ExposedServerWarning, PortUnavailable
    from gdlab.web import serve as run_server

    _collect_garbage()

    def plain(message, category, *_args, **_kwargs) -> None:  # a sentence, not a source line
        prefix = "warning: " if issubclass(category, ExposedServerWarning) else f"{category.__name__}: "
        typer.echo(f"{prefix}{message}", err=True)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", ExposedServerWarning)
            warnings.showwarning = plain
            run_server(host=host, port=port, open_browser=open_browser)
    except PortUnavailable as err:
        typer.echo(f"error: {err.strerror or err}", err=True)
        raise typer.Exit(1) from None


@app.command(cls=Command)
@_guarded
def lesson(
    chapter: Annotated[
        str | None,
        typer.Option(
            "--chapter",
            help="The chapter to open: data, matrix, closed, grid, sign, descent, animation, rate, homework.",
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="ko (Korean, the default) or en.")] = "ko",
    projector: Annotated[bool, typer.Option("--projector", help="Large type, for a projector.")] = False,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; the default answers this machine only."),
    ] = "127.0.0.1",
    port: Annotated[int, _whole("--port", 1, "the port", "Port to listen on.", 65535)] = 8000,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the lesson in a browser.")
    ] = True,
):
    """The lecture as a guided lesson in a browser: each chapter's numbers beside the lecture's, live.

    Nine chapters, from the cafe data's gradient to SGD; each has a task the page checks, and the
    address keeps the chapter, the settings and the progress. Ctrl-C stops it.

    Example:

        gdlab lesson --lang en --chapter grid --projector
    """
    from gdlab._lesson import chapter as find
    from gdlab._lesson import language
    from gdlab.web import serve as run_server

    page = f"/lesson?lang={language(lang)}"
    if chapter is not None:
        page += f"&c={find(chapter).key}"
    if projector:
        page += "&big=1"
    _collect_garbage()
    run_server(host=host, port=port, open_browser=open_browser, page=page)


def _spans(pairs: list[str], loss) -> dict[str, tuple[float, float]]:
    from gdlab.cli import _options

    spans = {}
    for pair in ",".join(pairs).split(","):
        name, sep, rest = pair.partition("=")
        if not sep or ":" in name:
            if len(loss.params) != 1:
                raise InputError(f"--range {pair}: name the parameter, as in --range {loss.params[0]}={pair}")
            name, rest = loss.params[0], pair
        if name not in loss.params:
            raise _options.not_a_parameter("--range", pair, name, loss.params)
        if name in spans:
            raise InputError(f"--range: {name} is given twice; give each parameter once")
        spans[name] = _options.span(rest, "--range")
    missing = [p for p in loss.params if p not in spans]
    if missing:
        raise InputError(f"--range: give a range for {', '.join(missing)}")
    return spans


def _write_path(path, out: Path, frames: int, lang: str = "en") -> str:
    suffix = out.suffix.lower()
    if suffix == ".csv":
        path.to_csv(out)
    elif suffix == ".json":
        path.to_json(out)
    elif suffix in (".png", ".svg", ".pdf"):
        from gdlab import plot, save_figure

        save_figure(plot(path, tangent=len(path.names) == 1, history=True, lang=lang), out)
    else:
        _save_movie(path, out, frames, lang)
    return str(out)


def _save_movie(result, out: Path, frames: int, lang: str = "en") -> None:
    """A descent's or a fit's animation of ``frames`` frames (spaced by a log scale past 1,000
    steps, where the early fast motion would take one frame) written to ``out``."""
    from gdlab import animate

    spacing = "log" if (result.steps or 0) > 1000 else "linear"
    movie = animate(result, frames=frames, spacing=spacing, lang=lang)
    movie.save(out)
    if movie.note:
        typer.echo(f"note: {movie.note}", err=True)


def _rate(lr: str | None, method: str) -> float | None:
    """run's --lr: needed by the methods that take a rate, refused by those that set their own step."""
    from gdlab.cli import _options

    METHODS[method].rate(None if lr is None else 1.0)  # the registry's rule: needed, or refused
    return None if lr is None else _options.value(lr, "--lr")


def _method(name: str, rated: bool = False) -> str:
    """A descent method's name (one that takes a rate, when ``rated``); a typo gets the nearest one."""
    from gdlab.cli import _options

    chosen = _options.method(name, tuple(METHODS))
    if rated and not METHODS[chosen].needs_lr:
        takes = ", ".join(k for k, m in METHODS.items() if m.needs_lr)
        raise InputError(
            f"--method {chosen} sets its own step size, so a sweep of --lr rates cannot vary it; "
            f"choose one of {takes}"
        )
    return chosen


def _show(values) -> str:
    if isinstance(values, dict):
        return ", ".join(f"{k}={v:.6g}" for k, v in values.items())
    return f"{values:.6g}"


def _num(value) -> str:
    return "" if value is None else f"{value:.10g}"


# Whether this process is a command's alone (started by main, the script), not a program that
# calls app: only then does a command change how a library it imports behaves.
_OWN_PROCESS = False

# The collector's thresholds while a command runs (Python's default is 700, 10, 10).
COMMAND_GC = (100_000, 20, 20)
SERVER_GC = (700, 10, 10)


def main() -> None:
    """Entry point of the ``gdlab`` script.

    A command is one short process that imports JAX and matplotlib: hundreds of thousands of
    objects, none of them garbage, which Python's cyclic collector walked over and over (a
    quarter of the import time; about 15% of ``gdlab run ... --out descent.gif``). A command
    collects rarely (every 100,000 allocations, not 700), so a long one (a fit of a large
    Parquet directory) still frees its cycles; the servers collect as usual
    (:func:`_collect_garbage`).
    """
    import gc

    global _OWN_PROCESS
    _OWN_PROCESS = True
    gc.set_threshold(*COMMAND_GC)
    try:
        app()
    except SystemExit as done:  # how click ends every command, the status in its code
        _leave(done.code)


def _leave(code: object) -> NoReturn:
    """End a command's own process with status ``code``, once every library's exit handlers
    (``atexit``) have run, without the interpreter's teardown after them.

    That teardown frees, one by one, the hundreds of thousands of objects JAX and matplotlib
    made and stops XLA's threads: 0.1-0.2 s of CPU, a tenth of ``gdlab run ... --out
    descent.gif``, for memory the operating system takes back at once. A command has closed
    (and renamed into place) every file it wrote before it returns, and what it printed is
    flushed here. A thread still running (none of gdlab's commands leaves one) gets the usual
    exit, which waits for it.
    """
    import atexit
    import contextlib
    import os
    import sys
    import threading

    if isinstance(code, str):  # SystemExit("words"): printed, status 1, as Python does
        print(code, file=sys.stderr)
        code = 1
    status = 0 if code is None else code if isinstance(code, int) else 1
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others:
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # A pipe closed early (gdlab run ... | head), a closed stream: nothing more can be said.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def _collect_garbage() -> None:
    """A server lives long and sees a new loss per keystroke: its garbage is collected as usual."""
    import gc

    gc.set_threshold(*SERVER_GC)
    gc.enable()
