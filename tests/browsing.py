"""What the browser tests share: Debian's Chromium driven by Playwright (the module skips its
importer when either is missing), the app served on 127.0.0.1 for a module, and a watched page
that fails its test on a console error or on a request leaving the page's own origin."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("fastapi")

from gdlab.web import create_app  # noqa: E402
from gdlab.web._server import running  # noqa: E402

CHROMIUM = os.environ.get("GDLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def base():
    """The lab's address, served for the module's tests."""
    with running(create_app()) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module's tests."""
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Watched:
    """A page that records console errors and requests to other origins; :meth:`close` fails the
    test on either."""

    def __init__(self, context, base: str):
        self.base = base
        self.page = context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)

    def _request(self, request) -> None:
        url = request.url
        if url.startswith(("data:", "blob:")):
            return
        here, there = urlsplit(self.base), urlsplit(url)
        if (here.scheme, here.netloc) != (there.scheme, there.netloc):
            self.outside.append(url)

    def close(self):
        self.page.close()
        assert not self.errors, self.errors
        assert not self.outside, self.outside
