"""The lesson's endpoints: the page at ``/lesson``, its words, each chapter live, and the notebook.

Everything the page shows comes from :mod:`gdlab._lesson`: the words and the lecture's values
(``GET /api/lesson``), a chapter computed at the reader's settings with the task's verdict
(``POST /api/lesson/{key}``), and the lesson as a notebook (``GET /api/lesson/notebook``).
The chapters' settings are bounded there, so every request is small; each still runs on a
worker under the lab's time limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from gdlab._lesson import contents, live, notebook_text
from gdlab.web._files import STATIC
from gdlab.web._models import LessonIn

Compute = Callable[[Callable[[], Response], Request], Awaitable[Response]]


def lesson_endpoints(app: FastAPI, compute: Compute) -> None:
    """Add the lesson's page and endpoints to ``app``; ``compute`` runs work on the lab's workers."""

    @app.api_route("/lesson", methods=["GET", "HEAD"], include_in_schema=False)
    async def page() -> Response:
        return FileResponse(STATIC / "lesson.html", headers={"Cache-Control": "no-cache"})

    @app.get("/api/lesson", tags=["lesson"])
    async def words(lang: Literal["ko", "en"] = "ko") -> Response:
        """Every chapter's words, the lecture's values, settings and TensorFlow code."""
        return JSONResponse(contents(lang))

    @app.get(
        "/api/lesson/notebook",
        tags=["lesson"],
        response_class=Response,
        responses={200: {"content": {"application/x-ipynb+json": {}}}},
    )
    async def notebook(http: Request, lang: Literal["ko", "en"] = "ko") -> Response:
        """The lesson as a Jupyter notebook whose cells reproduce the lecture's numbers with gdlab."""

        def work() -> Response:
            return Response(
                notebook_text(lang),
                media_type="application/x-ipynb+json",
                headers={"Content-Disposition": f'attachment; filename="gdlab-lesson-{lang}.ipynb"'},
            )

        return await compute(work, http)

    @app.post("/api/lesson/{key}", tags=["lesson"])
    async def chapter(key: str, request: LessonIn, http: Request) -> Response:
        """One chapter at the reader's settings: values beside the lecture's, picture, code, task verdict."""
        answer: Callable[[], dict[str, Any]] = lambda: live(key, request.settings, request.lang)  # noqa: E731
        return await compute(lambda: JSONResponse(answer()), http)
