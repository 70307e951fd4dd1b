"""The lab's web server: JSON endpoints over gdlab's public functions, and the static page.

Computations run on worker threads, a few at a time (:class:`WebLimits`), so a
slow request never stalls the event loop. Each runs inside a cancel scope
(:mod:`gdlab._cancel`): past its time limit, or once its client has gone, the
scope is cancelled, the answer is 503 with the reason, and the work stops at its
next checkpoint, which frees its slot (a slot is held until the work really ends,
so work that does not check yet still counts against the limit). What a request
would cost is priced before any work (:mod:`gdlab.web._cost`). An
:class:`gdlab.InputError` is the user's to fix: 422 with its message. Every refusal's body
is :func:`gdlab.web._models.refusal`'s: ``detail`` in words, ``problems`` as data.

Every answer carries the page's security headers, and only requests naming this
server's own host are answered (:mod:`gdlab.web._guards`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import gdlab
from gdlab import _cancel
from gdlab.web._compute import Lab
from gdlab.web._files import STATIC, plotly_js
from gdlab.web._guards import BodyLimit, HostCheck, SecurityHeaders, allowed_hosts
from gdlab.web._lesson import lesson_endpoints
from gdlab.web._models import (
    DescentIn,
    DescentOut,
    ErrorOut,
    ExportIn,
    FitIn,
    FitOut,
    LandscapeIn,
    LandscapeOut,
    MethodsIn,
    MethodsOut,
    ParseIn,
    ParseOut,
    PhaseIn,
    PhaseOut,
    PhasePictureIn,
    RunIn,
    RunsOut,
    StabilityIn,
    StabilityOut,
    SweepIn,
    SweepOut,
    WebLimits,
    refusal,
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The request named a host this server does not answer for."},
    413: {"model": ErrorOut, "description": "The request body is too large."},
    422: {"model": ErrorOut, "description": "The input is wrong; the message says what to fix."},
    503: {
        "model": ErrorOut,
        "description": "Busy, or out of time; the message says which.",
    },
}
# How often a waiting request looks whether its work ended, its time ran out or its client left.
_POLL = 0.05


class Unavailable(Exception):
    """The server cannot answer now (busy, or out of time); the message says which."""


class Workers:
    """Runs computations on threads, at most ``limits.workers`` at once, each within a time limit.

    Each computation runs inside its own cancel scope: past its time limit, or once its
    client disconnects, the scope is cancelled and the request answered 503 at once; the
    work stops at its next :func:`gdlab._cancel.checkpoint`, and only then is its slot free.
    """

    def __init__(self, limits: WebLimits):
        self.limits = limits
        self.slots = threading.BoundedSemaphore(limits.workers)
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=limits.workers, thread_name_prefix="gdlab-web"
        )

    async def run(self, work: Callable[[], Any], timeout: float, client: Request | None = None) -> Any:
        await self._acquire(client)
        stop = _cancel.Scope()
        try:
            # The worker thread runs in a copy of this context, and enters the request's scope there.
            future = self.pool.submit(contextvars.copy_context().run, _within, stop, timeout, work)
        except BaseException:
            self.slots.release()
            raise
        future.add_done_callback(lambda _: self.slots.release())  # when the work really ends
        return await self._wait(future, stop, timeout, client)

    async def _wait(
        self,
        future: concurrent.futures.Future[Any],
        stop: _cancel.Scope,
        timeout: float,
        client: Request | None,
    ) -> Any:
        waiting = asyncio.wrap_future(future)
        waiting.add_done_callback(_retrieve)  # an abandoned result's error is not "never retrieved"
        deadline = time.monotonic() + timeout
        while not waiting.done():
            await asyncio.wait([waiting], timeout=_POLL)
            if waiting.done():
                break
            if client is not None and await client.is_disconnected():
                stop.cancel("the client left")
                raise Unavailable("stopped: the client left")
            if time.monotonic() > deadline:
                stop.cancel("the time limit ran out")
                raise Unavailable(_out_of_time(timeout))
        try:
            return waiting.result()
        except _cancel.Cancelled:  # the work saw its own deadline first
            raise Unavailable(_out_of_time(timeout)) from None

    async def _acquire(self, client: Request | None) -> None:
        # A threading semaphore (not asyncio's) so that work still running keeps its slot.
        deadline = time.monotonic() + self.limits.queue_wait
        next_look = time.monotonic() + _POLL
        while not self.slots.acquire(blocking=False):
            now = time.monotonic()
            if now > deadline:
                raise Unavailable(
                    f"busy: {self.limits.workers} computations are running; try again in a moment"
                )
            if client is not None and now > next_look:
                next_look = now + _POLL
                if await client.is_disconnected():
                    raise Unavailable("stopped: the client left")
            await asyncio.sleep(0.005)


def _within(stop: _cancel.Scope, timeout: float, work: Callable[[], Any]) -> Any:
    with _cancel.scope(timeout=timeout, existing=stop):
        return work()


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _out_of_time(timeout: float) -> str:
    return (
        f"the computation took longer than the time limit ({timeout:g} s) and was stopped; "
        "take fewer steps or rates, or try again"
    )


def create_app(
    limits: WebLimits | None = None, *, host: str | None = None, port: int | None = None
) -> FastAPI:
    """The lab as an ASGI app: the page at ``/``, JSON endpoints under ``/api``.

    Args:
        limits: sizes, time limits and concurrency (default :class:`WebLimits`).
        host: the address the server listens on, when not a loopback one: requests
            naming it are answered as well as those naming 127.0.0.1, localhost or [::1]
            (see :func:`allowed_hosts`); any other Host header is answered 400.
        port: the port the server listens on, when known: requests naming another
            port are refused too.

    Returns:
        A FastAPI application; serve it with uvicorn, or use :func:`gdlab.web.serve`.
    """
    limits = limits or WebLimits()
    lab, workers = Lab(limits), Workers(limits)
    app = FastAPI(
        title="gdlab lab",
        version=gdlab.__version__,
        description="Gradient descent on a typed loss: parse it, run it at several rates, sweep the rate.",
        responses=_ERRORS,
        # FastAPI's interactive docs load their scripts from a CDN; the lab fetches nothing
        # from the internet, so only the schema itself is served (/openapi.json).
        docs_url=None,
        redoc_url=None,
    )
    app.state.lab, app.state.workers, app.state.limits = lab, workers, limits
    _handlers(app)
    _endpoints(app, lab, workers)
    _pages(app)
    names, any_address = allowed_hosts(host)
    # The last added runs first: headers on every answer, then the host, then the body's size.
    app.add_middleware(BodyLimit, limit=limits.body_bytes)
    app.add_middleware(HostCheck, names=names, port=port or None, any_address=any_address)
    app.add_middleware(SecurityHeaders)
    return app


def _handlers(app: FastAPI) -> None:
    # Every refusal's body is refusal()'s: its detail in words and its problems as data.
    @app.exception_handler(gdlab.InputError)
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: Exception) -> JSONResponse:
        return JSONResponse(refusal(err), status_code=422)

    @app.exception_handler(Unavailable)
    @app.exception_handler(_cancel.Cancelled)
    async def unavailable(_: Request, err: Exception) -> JSONResponse:
        return JSONResponse(refusal(err), status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, err: Exception) -> Response:
        assert isinstance(err, StarletteHTTPException)
        if err.status_code in (204, 304):  # no body allowed
            return Response(status_code=err.status_code, headers=err.headers)
        return JSONResponse(refusal(str(err.detail)), status_code=err.status_code, headers=err.headers)


def _json(work: Callable[[], dict[str, object]]) -> Callable[[], Response]:
    # Strict JSON (no NaN), written on the worker thread; the models document the shape.
    return lambda: JSONResponse(work())


def _endpoints(app: FastAPI, lab: Lab, workers: Workers) -> None:
    timeout = workers.limits.timeout

    async def compute(work: Callable[[], Response], http: Request, limit: float = timeout) -> Response:
        response: Response = await workers.run(work, limit, http)
        return response

    lesson_endpoints(app, compute)

    @app.post("/api/parse", response_model=ParseOut, tags=["lab"])
    async def parse(request: ParseIn, http: Request) -> Response:
        """Check a loss and give its parameters and exact derivatives."""
        return await compute(_json(lambda: lab.parse(request)), http)

    @app.post("/api/methods", response_model=MethodsOut, tags=["lab"])
    async def methods(request: MethodsIn) -> Response:
        """The optimisers by name, whether each takes a learning rate, and their settings."""
        return JSONResponse(lab.methods(request))

    @app.post("/api/run", response_model=RunsOut, tags=["lab"])
    async def run(request: RunIn, http: Request) -> Response:
        """One descent per rate: every run's (thinned) path, status and message, with exact final values."""
        return await compute(_json(lambda: lab.run(request)), http)

    @app.post("/api/descent", response_model=DescentOut, tags=["lab"])
    async def descent(request: DescentIn, http: Request) -> Response:
        """The descent view in one answer: the runs, the loss on a grid behind them and the loss's
        parameters (a start for each parameter not given one; names that are not parameters left out)."""
        return await compute(_json(lambda: lab.descent(request)), http)

    @app.post("/api/landscape", response_model=LandscapeOut, tags=["lab"])
    async def landscape(request: LandscapeIn, http: Request) -> Response:
        """The loss on a grid over one or two parameters, for the picture behind the paths."""
        return await compute(_json(lambda: lab.landscape(request)), http)

    @app.post("/api/sweep", response_model=SweepOut, tags=["lab"])
    async def sweep(request: SweepIn, http: Request) -> Response:
        """Many rates in one compiled call: each run's regime, steps and final loss, 2/L and explain(lr)."""
        return await compute(_json(lambda: lab.sweep(request)), http)

    @app.post("/api/phase", response_model=PhaseOut, tags=["lab"])
    async def phase(request: PhaseIn, http: Request) -> Response:
        """Every (rate, momentum) pair in one compiled call: each cell's regime and sentence, and on a
        quadratic the theory's boundary and fastest pair."""
        return await compute(_json(lambda: lab.phase(request)), http)

    @app.post(
        "/api/phase/picture",
        tags=["lab"],
        response_class=Response,
        responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
    )
    async def phase_picture(request: PhasePictureIn, http: Request) -> Response:
        """The phase diagram as PNG or SVG, drawn by gdlab's renderer (gdlab.plot of the phase)."""
        return await compute(
            _attachment(lambda: lab.phase_picture(request)), http, workers.limits.export_timeout
        )

    @app.post("/api/fit", response_model=FitOut, tags=["lab"])
    async def fit(request: FitIn, http: Request) -> Response:
        """A model formula ('y ~ x + C(group)') fitted to an uploaded CSV's text: the summary that
        ``gdlab fit data.csv FORMULA`` prints, and the fit as a dictionary."""
        return await compute(_json(lambda: lab.fit(request)), http)

    @app.post("/api/stability", response_model=StabilityOut, tags=["lab"])
    async def stability(request: StabilityIn, http: Request) -> Response:
        """Curvature at a point: 2/L, the best fixed rate, and what each given rate does."""
        return await compute(_json(lambda: lab.stability(request)), http)

    @app.post(
        "/api/export",
        tags=["lab"],
        response_class=Response,
        responses={
            200: {
                "content": {
                    m: {}
                    for m in (
                        "text/csv",
                        "application/json",
                        "image/gif",
                        "video/mp4",
                        "image/png",
                        "image/svg+xml",
                    )
                }
            }
        },
    )
    async def export(request: ExportIn, http: Request) -> Response:
        """The runs as a file from gdlab's writers: CSV or JSON of one run; GIF, MP4, PNG or SVG of all."""
        return await compute(_attachment(lambda: lab.export(request)), http, workers.limits.export_timeout)


def _attachment(produce: Callable[[], tuple[bytes, str, str]]) -> Callable[[], Response]:
    """Work that answers with a file: ``produce`` gives its bytes, media type and name."""

    def work() -> Response:
        data, media, name = produce()
        return Response(
            data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    return work


def _pages(app: FastAPI) -> None:
    # The security headers come from SecurityHeaders, on these and on every static file.
    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)  # HEAD: link checkers, curl -I
    async def index() -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    async def plotly() -> Response:
        return FileResponse(
            plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
        )

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
