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

__all__ = ["ExposedServerWarning", "create_app", "is_loopback", "lab", "lesson", "serve"]


class ExposedServerWarning(UserWarning):
    """The server listens on an address other machines can reach."""


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
    if not is_loopback(host):
        warnings.warn(
            f"serving on {host}: other machines can reach this lab and use this computer's "
            "processors; use the default host 127.0.0.1 to keep it local",
            ExposedServerWarning,
            stacklevel=2,
        )
    # Connections beyond the limit are answered 503 at once rather than queued without bound.
    # Requests must name this host (or a loopback name) and port: see create_app.
    app = create_app(host=host, port=port or None)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", limit_concurrency=200)
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(f"http://{shown}:{port}{page}",)).start()
    what = "lesson" if page.startswith("/lesson") else "lab"
    print(f"gdlab {what} on http://{shown}:{port}{page}  (Ctrl-C stops it)", file=sys.stderr)
    server.run()
