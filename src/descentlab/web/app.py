"""The playground's Starlette application: the page and its JSON API.

- ``GET /`` and ``/static/...``: the page, served from the package (no CDN).
- ``GET /api/options``: the landscapes and optimizers the forms offer, from the registries,
  and the race view's choices under ``race`` (``race_options``).
- ``GET /api/contours?function=NAME``: a function's contour map.
- ``POST /api/landscape``: the optimizers' paths (``landscape_view.paths``).
- ``POST /api/landscape/results.json``: the same request's results.json, as
  ``descentlab landscape`` writes it, for download (``landscape_view.results_json``).
- ``POST /api/upload?name=FILE``: a CSV file for races, kept in the application's temporary
  folder until it shuts down (``upload.Uploads``).
- ``/ws/race``: a websocket for live races (``sessions.RaceSession``; docs/playground.md has
  the messages). Each race trains in a process of its own (``race.Race``), from a fork
  server started with the application.

A request the library refuses gets HTTP 422 with ``{"error": {"field": ..., "message": ...}}``
naming the field and what is allowed; a body over ``Limits.max_body_bytes`` (an upload over
``Limits.max_upload_bytes``) gets 413.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from descentlab.runs.names import RESULTS_FILE
from descentlab.web import landscape_view
from descentlab.web.limits import Limits
from descentlab.web.race import start_fork_server
from descentlab.web.race_options import race_options
from descentlab.web.requests import FieldError, landscape_request
from descentlab.web.sessions import RaceSession, RaceSlots, error_text
from descentlab.web.upload import UploadError, Uploads

STATIC = Path(__file__).parent / "static"
"""The page's files: index.html, playground.js, playground.css."""


class RaceSent(enum.Enum):
    """A race's process sent messages: relay them."""

    MESSAGES = "messages"


def field_error(field: str, message: str, status_code: int = 422) -> JSONResponse:
    """The API's answer to a refused request: which field, and what is allowed."""
    return JSONResponse({"error": {"field": field, "message": message}}, status_code=status_code)


def results_file(text: str) -> Response:
    """A results.json's text, as a file to save."""
    attachment = {"Content-Disposition": f'attachment; filename="{RESULTS_FILE}"'}
    return Response(text, media_type="application/json", headers=attachment)


def create_app(limits: Limits | None = None) -> Starlette:
    """The playground application, refusing requests beyond ``limits`` (default ``Limits()``)."""
    limits = Limits() if limits is None else limits
    slots = RaceSlots(limits.max_races)
    uploads: list[Uploads] = []  # the running application's (made at startup)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        uploads.append(Uploads())
        app.state.uploads_folder = uploads[0].folder
        start_fork_server()
        try:
            yield
        finally:
            uploads.pop().close()

    def find_upload(token: object) -> Any:
        return uploads[0].get(token) if uploads else None

    async def index(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def options(request: Request) -> JSONResponse:
        answer = landscape_view.options(limits)
        answer["race"] = await run_in_threadpool(race_options, limits)
        return JSONResponse(answer)

    async def upload(request: Request) -> Response:
        most = limits.max_upload_bytes
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > most:
            return field_error("file", f"must be at most {most} bytes, got {declared}", 413)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > most:
                return field_error("file", f"must be at most {most} bytes", 413)
            chunks.append(chunk)
        if not uploads:
            return field_error("file", "the server is shutting down", 503)
        try:
            stored = await run_in_threadpool(
                uploads[0].add, request.query_params.get("name"), b"".join(chunks)
            )
        except UploadError as refused:
            return field_error(refused.field, str(refused))
        return JSONResponse(stored.summary())

    async def contours(request: Request) -> JSONResponse:
        name = request.query_params.get("function", "")
        try:
            answer = await run_in_threadpool(landscape_view.contours, name, limits)
        except ValueError as error:
            return field_error("function", str(error))
        return JSONResponse(answer)

    async def landscape(request: Request) -> Response:
        return await answer_landscape(request, landscape_view.paths)

    async def landscape_results(request: Request) -> Response:
        return await answer_landscape(request, landscape_view.results_json, results_file)

    async def answer_landscape(
        request: Request,
        compute: Callable[..., Any],
        respond: Callable[[Any], Response] = JSONResponse,
    ) -> Response:
        body = await request.body()
        if len(body) > limits.max_body_bytes:
            return field_error(
                "body", f"must be at most {limits.max_body_bytes} bytes, got {len(body)}", 413
            )
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            return field_error("body", f"must be JSON: {error}")
        try:
            checked = landscape_request(document, limits)
            answer = await run_in_threadpool(compute, checked)
        except FieldError as error:
            return field_error(error.field, error.message)
        except ValueError as error:
            return field_error("body", str(error))
        return respond(answer)

    async def race(websocket: WebSocket) -> None:
        await websocket.accept()
        # The client's messages (None: it has gone), and a wake-up whenever the race sent some.
        inbox: asyncio.Queue[str | RaceSent | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def read() -> None:
            try:
                while True:
                    inbox.put_nowait(await websocket.receive_text())
            except WebSocketDisconnect:
                inbox.put_nowait(None)

        def race_sent() -> None:  # in the race's reader thread
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to tell
                loop.call_soon_threadsafe(inbox.put_nowait, RaceSent.MESSAGES)

        reader = asyncio.create_task(read())
        session = RaceSession(limits, slots, find_upload, on_message=race_sent)
        try:
            while True:
                text = await inbox.get()
                if isinstance(text, RaceSent):
                    for message in session.poll():  # quick: the race's process did the work
                        await websocket.send_text(message)
                    continue
                if text is None:
                    break
                if len(text) > limits.max_body_bytes:
                    answers = [error_text("body", f"must be at most {limits.max_body_bytes} bytes")]
                else:
                    try:
                        answers = await run_in_threadpool(session.handle, json.loads(text))
                    except json.JSONDecodeError as refused:
                        answers = [error_text("body", f"must be JSON: {refused}")]
                for answer in answers:
                    await websocket.send_text(answer)
        except WebSocketDisconnect:
            pass
        finally:
            reader.cancel()
            race = session.close(wait=False)  # at once: this task may be cancelled
            if race is not None:  # then its process ends (stopped, else terminated)
                with anyio.CancelScope(shield=True):
                    await run_in_threadpool(race.end)

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/options", options),
            Route("/api/contours", contours),
            Route(f"/api/landscape/{RESULTS_FILE}", landscape_results, methods=["POST"]),
            Route("/api/landscape", landscape, methods=["POST"]),
            Route("/api/upload", upload, methods=["POST"]),
            WebSocketRoute("/ws/race", race),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    return app
