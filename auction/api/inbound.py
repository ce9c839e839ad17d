"""What every HTTP request passes before and after its route (docs/http-api.md "Input limits").

:class:`Inbound` is the app's own middleware (inside Starlette's ``ServerErrorMiddleware`` and
the headers of :mod:`auction.api.headers`, outside the routes' exception handlers):

- **before routing**: the decoded path and every query parameter (name and value) must be text
  by :func:`auction.domain.inputs.text_problem`: no NUL or other control character (``%00``,
  ``%0A`` …), a query value at most :data:`MAX_QUERY_VALUE` characters; else 400
  ``bad_request`` naming the parameter (``path`` for the path). Ids in the path and in
  ``?session=`` are bounded by :mod:`auction.api.ids` and ``http_errors.query_int``.
- **after**: an exception no handler mapped is answered here with a 500 ``internal_error`` (its
  traceback logged once, by ``http_errors.to_response``), and the connection stays usable: left
  to ``ServerErrorMiddleware`` it would be re-raised to uvicorn, which logs a second traceback
  and drops a keep-alive connection without ``Connection: close``.

Websocket and lifespan traffic pass through untouched (``/ws`` answers its own errors).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auction.api.english import HEADER, wants_english
from auction.api.http_errors import BadRequest, to_response
from auction.domain.inputs import text_problems

#: longest query parameter value (codes, states and ids are far shorter)
MAX_QUERY_VALUE = 256
#: longest decoded path (the longest route path is under 80 characters)
MAX_PATH = 2048


def input_problem(scope: Scope) -> tuple[str, str, str] | None:
    """``(field, problem, problem in English)`` for the first bad part of the request line,
    else ``None``."""
    path: str = scope.get("path", "")
    problems = text_problems(path, max_len=MAX_PATH)
    if problems is not None:
        return "path", *problems
    query = scope.get("query_string", b"").decode("latin-1")
    # as Starlette decodes it (invalid UTF-8 becomes U+FFFD, which is harmless)
    for name, value in parse_qsl(query, keep_blank_values=True):
        problems = (text_problems(name, max_len=MAX_QUERY_VALUE)
                    or text_problems(value, max_len=MAX_QUERY_VALUE))
        if problems is not None:
            return name, *problems
    return None


def _english(scope: Scope) -> bool:
    """Does the request ask for English messages (read only when answering an error)?"""
    return wants_english(Headers(scope=scope).get(HEADER))


class Inbound:
    """The pure ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad = input_problem(scope)
        if bad is not None:
            field, problem, problem_en = bad
            name = "路径" if field == "path" else f"查询参数 {field}"
            name_en = "The path" if field == "path" else f"Query parameter {field}"
            refused = BadRequest(f"{name} {problem}", field, en=f"{name_en} {problem_en}")
            await to_response(refused, english=_english(scope))(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:
                raise  # half an answer is out: only the server can end it (it closes)
            await to_response(exc, english=_english(scope))(scope, receive, send)
