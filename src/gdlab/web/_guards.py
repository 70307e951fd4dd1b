"""What guards the lab's server before a request reaches an endpoint: ASGI middleware.

:class:`HostCheck` answers only requests that name this server's own host (DNS
rebinding), :class:`BodyLimit` refuses large bodies before they are read whole,
and :class:`SecurityHeaders` puts the page's security headers on every answer.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import Any

from fastapi.responses import JSONResponse

from gdlab.web._models import refusal

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
)
# On every answer (the page, its scripts and styles, the API): a file served by the static
# folder is as much the page as "/" is.
SECURITY_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before they reach an endpoint."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        detail = (
            f"the request is larger than {self.limit:,} bytes; send a shorter expression or fewer numbers"
        )
        await JSONResponse(refusal(detail), status_code=413)(scope, receive, send)


class SecurityHeaders:
    """Add the page's security headers (:data:`SECURITY_HEADERS`) to every answer that lacks them."""

    def __init__(self, app: Any):
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


_WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})


def _bracketed(name: str) -> str:
    """A host name as a Host header writes it: lower case, IPv6 in brackets, no final dot."""
    name = name.strip().lower().rstrip(".")
    return f"[{name}]" if ":" in name and not name.startswith("[") else name


def _split_host(header: str) -> tuple[str, int] | None:
    """A Host header's (name, port), the port 80 when not written; ``None`` when malformed."""
    match = re.fullmatch(r"(\[[0-9a-fA-F:.%\w]+\]|[^:\[\]]+)(?::(\d{1,5}))?", header.strip())
    if match is None:
        return None
    return _bracketed(match[1]), int(match[2] or 80)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


class HostCheck:
    """Answer only requests whose Host header names this server: its loopback names and its ``host``.

    DNS rebinding: a page at ``http://evil.example:8000`` whose name is made to resolve
    to 127.0.0.1 reaches this server as its own origin, and could run computations and
    read the answers; its requests still say ``Host: evil.example:8000``. An address
    written as numbers cannot be rebound, so a server listening on every address
    (``0.0.0.0``) also answers its machine's addresses and names.
    """

    def __init__(self, app: Any, names: Iterable[str], port: int | None, any_address: bool):
        self.app, self.names, self.port, self.any_address = app, frozenset(names), port, any_address

    def allows(self, header: str) -> bool:
        found = _split_host(header)
        if found is None:
            return False
        name, port = found
        if self.port is not None and port != self.port:
            return False
        return name in self.names or (self.any_address and _is_ip(name))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            header = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if not self.allows(header):
                await self._refuse(header, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, header: str, scope: Any, receive: Any, send: Any) -> None:
        names = sorted(self.names - {"localhost", "127.0.0.1", "[::1]"})
        known = ", ".join(["127.0.0.1", "localhost", "[::1]", *names])
        port = "" if self.port is None else f" (port {self.port})"
        given = f"the request named {header[:100]!r}" if header else "the request named no host"
        detail = f"this lab answers only at {known}{port}; {given}: open the lab by one of those addresses"
        await JSONResponse(refusal(detail), status_code=400)(scope, receive, send)


def allowed_hosts(host: str | None) -> tuple[frozenset[str], bool]:
    """The Host names a server listening on ``host`` answers to, and whether any IP address is one.

    Always the loopback names; a named host too; on every address (``0.0.0.0``, ``::``),
    this machine's names and (written as numbers, which cannot be rebound) any address.
    """
    names = {"127.0.0.1", "localhost", "[::1]"}
    everywhere = host is not None and host.strip() in _WILDCARDS
    if host is not None and not everywhere:
        names.add(_bracketed(host))
    if everywhere:
        names |= {_bracketed(socket.gethostname()), _bracketed(socket.getfqdn())}
    return frozenset(names), everywhere
