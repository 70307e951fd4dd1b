"""The lab in a browser: ``gdlab serve`` starts it, :func:`create_app` builds it.

The page (``static/``) draws what the JSON endpoints return; the endpoints call
gdlab's public functions (parse, descend, sweep, stability, landscape and the
writers) and hold no optimisation logic of their own. The notebook widget
(:func:`gdlab.web.lab`) uses the same page and the same computations, in the
kernel, without a server.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import warnings
import webbrowser
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gdlab.web._models import WebLimits
    from gdlab.web._widget import LabWidget, LessonWidget

__all__ = ["ExposedServerWarning", "PortUnavailable", "create_app", "is_loopback", "lab", "lesson", "serve"]


class ExposedServerWarning(UserWarning):
    """The server listens on an address other machines can reach."""


class PortUnavailable(OSError):
    """The server cannot listen where it was asked to (a port in use, or not ours to take);
    the message names the port and what to do."""


def create_app(
    limits: WebLimits | None = None, *, host: str | None = None, port: int | None = None
) -> FastAPI:
    """The lab as an ASGI application (see :func:`gdlab.web._app.create_app`).

    It answers requests naming 127.0.0.1, localhost or [::1], and ``host`` when given
    (the address a server listens on); ``port``, when given, must match too.
    """
    from gdlab.web._app import create_app as make

    return make(limits, host=host, port=port)


def lab(expression: str = "(b/2-1)^2", **options: Any) -> LabWidget:
    """The lab as a notebook widget, computing in this kernel (see :func:`gdlab.web._widget.lab`)."""
    from gdlab.web._widget import lab as make

    return make(expression, **options)


def lesson(chapter: str | None = None, **options: Any) -> LessonWidget:
    """The lesson as a notebook widget, computing in this kernel (see :func:`gdlab.web._widget.lesson`)."""
    from gdlab.web._widget import lesson as make

    return make(chapter, **options)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in found)


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False, page: str = "/") -> None:
    """Serve the lab (and the lesson, at ``/lesson``) until Ctrl-C.

    Args:
        host: the address to listen on. The default answers this machine only;
            any other address lets the network in, and a warning says so.
        port: the port (0 picks a free one).
        open_browser: open ``page`` in the default browser once it is up.
        page: the path and query to open and print, such as ``/lesson?lang=en``.
    """
    import uvicorn

    from gdlab._cache import keep_compiled
    from gdlab.web._models import DEFAULT

    keep_compiled(DEFAULT.compiled_losses)  # a process of its own, for the whole class: bounded
    listening = listen(host, port)  # first: a port in use is said before anything else is printed
    port = listening.getsockname()[1]
    try:
        if not is_loopback(host):
            warnings.warn(
                f"serving on {host}: other machines can reach this lab and use this computer's "
                "processors; use the default host 127.0.0.1 to keep it local",
                ExposedServerWarning,
                stacklevel=2,
            )
        # Connections beyond the limit are answered 503 at once rather than queued without bound.
        # Requests must name this host (or a loopback name) and port: see create_app.
        app = create_app(host=host, port=port)
        # log_config=None: uvicorn's own logging set-up would bind handlers to the sys.stderr of
        # the moment, for the life of the process (a closed stream once a caller restores its own).
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", limit_concurrency=200, log_config=None
        )
        server = uvicorn.Server(config)
        urls = addresses(host, port, page)
        if open_browser:
            threading.Timer(1.0, webbrowser.open, args=(urls[0],)).start()
        what = "lesson" if page.startswith("/lesson") else "lab"
        print(f"gdlab {what} on {' and '.join(urls)}  (Ctrl-C stops it)", file=sys.stderr)
        server.run(sockets=[listening])

    finally:
        listening.close()


_WILDCARDS = ("0.0.0.0", "::", "")


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host`` and ``port`` (0: a free port), or :class:`PortUnavailable`
    naming the port and the fix (``--port``, ``--host``)."""
    try:
        family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise PortUnavailable(
            f"cannot listen on {host!r}: no such address on this machine; use --host 127.0.0.1"
        ) from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port left in TIME_WAIT is free
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise _unavailable(err, host, port) from None
    return sock


def _unavailable(err: OSError, host: str, port: int) -> PortUnavailable:
    import errno

    if err.errno == errno.EADDRINUSE:
        return PortUnavailable(
            errno.EADDRINUSE,
            f"port {port} is in use on {host} (another gdlab serve, or another program); "
            f"choose another with --port {port + 1 if port < 65535 else 8000}, or stop the other",
        )
    if err.errno == errno.EACCES:
        return PortUnavailable(
            errno.EACCES, f"port {port} is reserved on this machine; choose one above 1023, as in --port 8000"
        )
    return PortUnavailable(
        err.errno or 0, f"cannot listen on {host} port {port}: {err.strerror or err}; use --host 127.0.0.1"
    )


def addresses(host: str, port: int, page: str = "/") -> list[str]:
    """Where a browser finds ``page`` of a server on ``host``: on every address (0.0.0.0, ::), this
    machine's own (127.0.0.1) and the one others on the network use, never the unusable
    http://0.0.0.0/."""
    if host.strip() not in _WILDCARDS:
        shown = f"[{host}]" if ":" in host else host
        return [f"http://{shown}:{port}{page}"]
    urls = [f"http://127.0.0.1:{port}{page}" if host.strip() != "::" else f"http://[::1]:{port}{page}"]
    outside = _network_address()
    if outside:
        urls.append(f"http://{outside}:{port}{page} from other machines")
    return urls


def _network_address() -> str | None:
    """This machine's address on its network (a UDP socket "connected" sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, only looked up
            found = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if ipaddress.ip_address(found).is_loopback else found
