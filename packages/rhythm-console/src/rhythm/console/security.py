"""The console's guards, as one ASGI middleware: the token (when set) on every request, and a
CSRF check on every POST (double submit: a random cookie the page echoes in a hidden field,
plus an Origin check), and read-only mode refusing every POST.

The token may come as `Authorization: Bearer T`, or once as `?token=T`, after which it is kept
in an HttpOnly, SameSite=Strict cookie so that links and the event stream work."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_COOKIE = "rhythm_console_token"
CSRF_COOKIE = "rhythm_console_csrf"
CSRF_FIELD = "csrf"


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (made and stored in a cookie on its first page)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) >= 32:
        return existing
    token = request.state.__dict__.get("new_csrf")
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


class Guard:
    def __init__(self, app: ASGIApp, token: str | None, read_only: bool) -> None:
        self.app = app
        self.token = token
        self.read_only = read_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if self.token is not None:
            given = request.query_params.get("token")
            if _same(given, self.token):
                # keep it in a cookie and drop it from the address bar (and from history)
                url = request.url.remove_query_params("token")
                response: Response = RedirectResponse(str(url), status_code=303)
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                await response(scope, receive, send)
                return
            header = request.headers.get("authorization", "")
            bearer = header[7:] if header.lower().startswith("bearer ") else None
            if not (
                _same(bearer, self.token) or _same(request.cookies.get(TOKEN_COOKIE), self.token)
            ):
                await PlainTextResponse(
                    "this console needs its token: open it with ?token=... once, or send "
                    "Authorization: Bearer ...",
                    status_code=401,
                )(scope, receive, send)
                return
        if request.method not in ("GET", "HEAD"):
            problem = await self._post_problem(request)
            if problem is not None:
                await PlainTextResponse(problem, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _post_problem(self, request: Request) -> str | None:
        if self.read_only:
            return "this console is read-only: actions are turned off"
        origin = request.headers.get("origin")
        if origin is not None and origin != "null":
            host = request.headers.get("host", "")
            if urlsplit(origin).netloc != host:
                return f"refused: a form posted from another site ({origin})"
        form = await request.form()
        # the body is read now; routes take the fields from here (see posted_form)
        request.scope.setdefault("state", {})["form"] = {
            k: v for k, v in form.items() if isinstance(v, str)
        }
        field = form.get(CSRF_FIELD)
        if not _same(request.cookies.get(CSRF_COOKIE), field if isinstance(field, str) else None):
            return (
                "refused: the form's CSRF token is missing or stale; reload the page and try again"
            )
        return None


def posted_form(request: Request) -> dict[str, str]:
    """The text fields of a POST, as read and checked by Guard."""
    return dict(request.scope.get("state", {}).get("form", {}))
