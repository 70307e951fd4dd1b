"""The lab as a notebook widget (anywidget): the page's own files, computing in the kernel.

The browser side is ``static/lab.js`` with a small entry (``static/widget.js``)
that sends each request to the kernel as a widget message instead of over
HTTP; the kernel answers with :class:`gdlab.web._compute.Lab`, the same code
the server runs. No server starts, so it works wherever widgets do
(JupyterLab, Notebook, VS Code).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import anywidget
import pydantic
import traitlets

from gdlab._checks import InputError
from gdlab.web._compute import Lab as Computations
from gdlab.web._files import STATIC, plotly_js
from gdlab.web._models import (
    DescentIn,
    ExportIn,
    FitIn,
    LandscapeIn,
    MethodsIn,
    ParseIn,
    PhaseIn,
    PhasePictureIn,
    RunIn,
    StabilityIn,
    SweepIn,
    problems,
    refusal,
)

_REQUESTS: dict[str, type[pydantic.BaseModel]] = {
    "parse": ParseIn,
    "methods": MethodsIn,
    "run": RunIn,
    "descent": DescentIn,
    "landscape": LandscapeIn,
    "sweep": SweepIn,
    "phase": PhaseIn,
    "phase/picture": PhasePictureIn,
    "stability": StabilityIn,
    "fit": FitIn,
    "export": ExportIn,
}
_IMPORT = re.compile(r'^import [^;]+ from "\./[a-z0-9_]+\.js";\n', re.MULTILINE)


def _module(name: str) -> str:
    """A static ES module made part of one file: its imports of siblings dropped, exports kept local."""
    text = (STATIC / name).read_text(encoding="utf-8")
    text = _IMPORT.sub("", text)
    return re.sub(r"^export (const|function|class) ", r"\1 ", text, flags=re.MULTILINE)


def _entry(name: str) -> str:
    """A widget's entry module made part of one file: its imports of siblings dropped, its default
    export (anywidget's) kept."""
    return _IMPORT.sub("", (STATIC / name).read_text(encoding="utf-8"))


def _global(name: str, source: str) -> str:
    """A UMD script run once per page so that it sets ``globalThis[name]``.

    Classic Notebook defines an AMD ``define``, which UMD scripts would register with
    instead of setting the global; it is shadowed (with ``module`` and ``exports``) here.
    """
    return (
        f"if (!globalThis.{name}) {{\n(function (define, module, exports) {{\n{source}\n}})"
        ".call(globalThis, undefined, undefined, undefined);\n}"
    )


@functools.cache
def bundle() -> str:
    """The widget's one ES module: plotly.js and KaTeX (once per page), then the page's modules."""
    parts = [
        _global("Plotly", plotly_js().read_text(encoding="utf-8")),
        _global("katex", (STATIC / "vendor" / "katex" / "katex.min.js").read_text(encoding="utf-8")),
        _module("i18n.js"),
        _module("lab.js"),
        _module("kernel.js"),
        _entry("widget.js"),
    ]
    return "\n".join(parts)


class LabWidget(anywidget.AnyWidget):
    """The lab in a notebook cell. ``state`` is the page's state (the same keys as its URL)."""

    _css = traitlets.Unicode((STATIC / "lab.css").read_text(encoding="utf-8")).tag(sync=True)
    state = traitlets.Dict().tag(sync=True)

    def __init__(self, **kwargs: Any):
        super().__init__(_esm=bundle(), **kwargs)
        self._lab = Computations()
        self.on_msg(self._answer)

    def __repr__(self) -> str:
        return f"LabWidget({self.state.get('e')!r}, rates={self.state.get('r')})"

    def answer(self, content: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        """The reply to one request from the page: ``{id, ok, result}`` or ``{id, ok, status}`` with
        the server's refusal (``detail``, ``problems``: :func:`gdlab.web._models.refusal`)."""
        ask = content.get("id")
        kind = _REQUESTS.get(str(content.get("name")))
        try:
            if kind is None:
                raise InputError(f"unknown request {content.get('name')!r}; known: {', '.join(_REQUESTS)}")
            request = kind.model_validate(content.get("payload"))
            if isinstance(request, ExportIn | PhasePictureIn):  # a file: its bytes as the message's buffer
                if isinstance(request, ExportIn):
                    data, media, name = self._lab.export(request)
                else:
                    data, media, name = self._lab.phase_picture(request)
                return {"id": ask, "ok": True, "file": True, "media": media, "name": name}, [data]
            result = getattr(self._lab, str(content["name"]))(request)
        except (pydantic.ValidationError, InputError) as err:  # as the server refuses it
            return {"id": ask, "ok": False, "status": 422, **refusal(err)}, []
        except Exception as err:  # a bug of gdlab's: say so on the page rather than leave it waiting
            return {"id": ask, "ok": False, "status": 500, **refusal(f"internal error: {err!r}")}, []
        return {"id": ask, "ok": True, "result": result}, []

    def _answer(self, _: object, content: dict[str, Any], buffers: Sequence[bytes]) -> None:
        reply, data = self.answer(content)
        self.send(reply, data or None)


def lab(
    expression: str = "(b/2-1)^2",
    *,
    start: dict[str, float] | None = None,
    rates: Sequence[float] = (0.5, 2, 4.5),
    method: str = "gd",
    steps: int = 60,
    tol: float | None = 1e-8,
    data: str | None = None,
    view: str = "descent",
    lang: str | None = None,
    large: bool = False,
) -> LabWidget:
    """The lab as a notebook widget: type a loss, run several rates, sweep the rate, map (rate, momentum).

    It computes in this kernel (no server) and shows in JupyterLab, Notebook and VS Code.

    Args:
        expression: the loss, in gdlab's expression language.
        start: a starting value per parameter (default -10 for the lecture's loss, else 1).
        rates: the learning rates drawn at once.
        method: the optimiser: gd, sign, momentum, nesterov, adagrad, rmsprop or adam.
        steps: the most steps of each run.
        tol: stop once the gradient norm is at most this (``None``: every step).
        data: ``"cafe"`` binds the lecture's x and y.
        view: ``"descent"``, ``"sweep"`` or ``"phase"``. Its "Model fit" tab fits a CSV chosen
            or dropped in the widget, in this kernel, as ``gdlab fit`` fits a file.
        lang: ``"en"`` or ``"ko"`` (default: the browser's language).
        large: large type, for a projector.

    Returns:
        A widget; show it as a cell's value.
    """
    if start is None:
        start = {"b": -10.0} if expression.replace(" ", "") == "(b/2-1)^2" else {}
    _check(expression, start, rates, method, steps, tol, data, view, lang)
    state: dict[str, object] = {
        "e": expression,
        "d": data,
        "s": dict(start),
        "r": [float(r) for r in rates],
        "m": method,
        "h": {},
        "n": int(steps),
        "t": tol,
        "v": view,
        "big": bool(large),
    }
    if lang is not None:
        state["lang"] = lang
    return LabWidget(state=state)


def _check(expression, start, rates, method, steps, tol, data, view, lang) -> None:
    """The widget's settings, checked as the page's requests are (the same limits and words),
    so a bad setting is an InputError now rather than a message inside the widget later."""
    from gdlab._bind import parse_with_data

    try:
        RunIn.model_validate(
            {
                "expression": expression,
                "data": data,
                "start": dict(start) or {"b": 1.0},
                "rates": list(rates),
                "method": method,
                "steps": steps,
                "tol": tol,
            }
        )
    except pydantic.ValidationError as err:
        raise InputError(problems(err.errors())) from None
    loss = parse_with_data(expression, data)
    unknown = sorted(set(start) - set(loss.params))
    if unknown:
        raise InputError(
            f"start names {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} not a "
            f"parameter of {loss.text}; its parameters: {', '.join(loss.params)}"
        )
    if view not in ("descent", "sweep", "phase"):
        raise InputError(f"view must be 'descent', 'sweep' or 'phase'; got {view!r}")
    if lang not in (None, "en", "ko"):
        raise InputError(f"lang must be 'en' or 'ko' (or None for the browser's language); got {lang!r}")


@functools.cache
def lesson_bundle() -> str:
    """The lesson widget's one ES module: plotly.js (once per page), then the lesson's modules."""
    parts = [
        _global("Plotly", plotly_js().read_text(encoding="utf-8")),
        _module("lesson.js"),
        _module("kernel.js"),
        _entry("lesson-widget.js"),
    ]
    return "\n".join(parts)


class LessonWidget(anywidget.AnyWidget):
    """The lesson in a notebook cell. ``state`` is the page's state as a query string (as its URL's)."""

    _css = traitlets.Unicode((STATIC / "lesson.css").read_text(encoding="utf-8")).tag(sync=True)
    state = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any):
        super().__init__(_esm=lesson_bundle(), **kwargs)
        self.on_msg(self._answer)

    def __repr__(self) -> str:
        return f"LessonWidget({self.state!r})"

    def answer(self, content: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        """The reply to one request from the lesson: ``{id, ok, result}`` or ``{id, ok, status}`` with
        the server's refusal (``detail``, ``problems``: :func:`gdlab.web._models.refusal`)."""
        from gdlab._lesson import contents, live, notebook_text

        ask, payload = content.get("id"), dict(content.get("payload") or {})
        name = content.get("name")
        try:
            if name == "contents":
                return {"id": ask, "ok": True, "result": contents(payload.get("lang"))}, []
            if name == "live":
                result = live(str(payload.get("key")), payload.get("settings") or {}, payload.get("lang"))
                return {"id": ask, "ok": True, "result": result}, []
            if name == "notebook":
                lang = payload.get("lang") or "ko"
                text = notebook_text(lang).encode("utf-8")
                reply = {"id": ask, "ok": True, "file": True, "media": "application/x-ipynb+json"}
                return {**reply, "name": f"gdlab-lesson-{lang}.ipynb"}, [text]
            raise InputError(f"unknown request {name!r}; known: contents, live, notebook")
        except InputError as err:
            return {"id": ask, "ok": False, "status": 422, **refusal(err)}, []
        except Exception as err:  # a bug of gdlab's: say so on the page rather than leave it waiting
            return {"id": ask, "ok": False, "status": 500, **refusal(f"internal error: {err!r}")}, []

    def _answer(self, _: object, content: dict[str, Any], buffers: Sequence[bytes]) -> None:
        reply, data = self.answer(content)
        self.send(reply, data or None)


def lesson(chapter: str | None = None, *, lang: str = "ko", large: bool = False) -> LessonWidget:
    """The lecture as a guided lesson in a notebook cell, computing in this kernel.

    Nine chapters, one per step of the lecture, each with the lecture's printed values beside
    gdlab's, the code, a live picture, and a task that is checked (see :mod:`gdlab._lesson`).

    Args:
        chapter: the chapter to open (data, matrix, closed, grid, sign, descent, animation,
            rate or homework; default the first).
        lang: ``"ko"`` (default) or ``"en"``.
        large: large type, for a projector.

    Returns:
        A widget; show it as a cell's value.

    Example:
        >>> import gdlab
        >>> gdlab.lesson("grid", lang="en")
        LessonWidget('?lang=en&c=grid')
    """
    from gdlab._lesson import chapter as find
    from gdlab._lesson import language

    query = f"?lang={language(lang)}"
    if chapter is not None:
        query += f"&c={find(chapter).key}"
    if large:
        query += "&big=1"
    return LessonWidget(state=query)
