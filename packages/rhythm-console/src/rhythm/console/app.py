"""The console's Starlette application: one small handler per page or action; the reads live
in reads.py, the guards in security.py, the live stream in live.py, and every action is a call
of rhythm.client's AsyncClient (the same call the `rhythm` commands make)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from rhythm.client.client import AsyncClient
from rhythm.client.errors import RhythmError
from rhythm.client.inspection import WaitPoint, wait_point
from rhythm.client.models import EXECUTION_TYPES, STATUSES
from rhythm.console import metrics, reads
from rhythm.console.charts import HEIGHT, WIDTH, minute_bars
from rhythm.console.live import Broadcaster
from rhythm.console.security import CSRF_COOKIE, CSRF_FIELD, Guard, csrf_token, posted_form
from rhythm.console.settings import ConsoleSettings
from rhythm.console.source_view import source_lines, version_diff

templates = Environment(
    loader=PackageLoader("rhythm.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


templates.filters["json"] = _json
templates.filters["seconds"] = _seconds


class Console:
    """The handlers, holding the settings, the read pool, the client and the broadcaster."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self.pool = reads.open_pool(settings.database_url)
        self.client = AsyncClient(settings.database_url, retry_for=0)
        self.live = Broadcaster(settings.database_url)

    def render(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> Response:
        token = csrf_token(request)
        page = templates.get_template(template).render(
            request=request,
            csrf_field=CSRF_FIELD,
            csrf=token,
            read_only=self.settings.read_only,
            **context,
        )
        response = HTMLResponse(page, status_code=status_code)
        if request.cookies.get(CSRF_COOKIE) != token:
            response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    # -- pages

    async def overview(self, request: Request) -> Response:
        status = await self.client.status()
        rows = await reads.fetch(self.pool, "throughput")
        bars, peak = minute_bars(rows, datetime.now(UTC))
        return self.render(
            request,
            "overview.html",
            status=status,
            bars=bars,
            peak=peak,
            width=WIDTH,
            height=HEIGHT,
        )

    async def executions(self, request: Request) -> Response:
        q = request.query_params
        find = (q.get("find") or "").strip()
        if find:
            found = await reads.find_execution(self.pool, find)
            if found is not None:
                return RedirectResponse(f"/executions/{found}", status_code=303)
        filters = {k: (q.get(k) or None) for k in reads.FILTERS}
        problems: list[str] = []
        if filters["status"] not in (None, *STATUSES):
            problems.append(f"unknown status {filters['status']!r}")
            filters["status"] = None
        if filters["type"] not in (None, *EXECUTION_TYPES):
            problems.append(f"unknown type {filters['type']!r}")
            filters["type"] = None
        since = _time(q.get("since"), "since", problems)
        until = _time(q.get("until"), "until", problems)
        cursor = None
        if q.get("after"):
            try:
                cursor = reads.Cursor.decode(q["after"])
            except ValueError as exc:
                problems.append(str(exc))
        limit = self.settings.page_size
        params = reads.list_params(filters, since, until, cursor, limit)
        rows, next_cursor = await reads.list_executions(self.pool, params, limit)
        kept = {k: v for k, v in q.items() if k not in ("after", "find") and v}
        next_url = (
            None
            if next_cursor is None
            else "/executions?" + urlencode({**kept, "after": next_cursor.encode()})
        )
        if find:
            problems.append(f"no execution has the id or idempotency key {find!r}")
        return self.render(
            request,
            "executions.html",
            rows=rows,
            filters=filters,
            query=q,
            statuses=STATUSES,
            types=EXECUTION_TYPES,
            next_url=next_url,
            problems=problems,
            status_code=400 if problems and not find else 200,
        )

    async def execution(self, request: Request) -> Response:
        execution_id = request.path_params["id"]
        try:
            inspection = await self.client.executions.inspect(execution_id)
        except RhythmError as exc:
            return self.render(request, "error.html", status_code=404, message=str(exc))
        ex = inspection.execution
        signals: list[dict[str, Any]] = []
        waits: list[dict[str, Any]] = []
        source: list[Any] = []
        steps: list[dict[str, Any]] = []
        wait, wait_problem, step = inspection.wait, inspection.wait_problem, None
        if ex.type == "workflow":
            signals = await reads.fetch(self.pool, "execution_signals", {"id": ex.id})
            waits = await reads.fetch(self.pool, "execution_waits", {"id": ex.id})
            steps = await reads.fetch(self.pool, "history_steps", {"id": ex.id})
            chosen = request.query_params.get("step")
            if chosen:
                step, wait, wait_problem = await self._past(ex.id, ex.name, chosen)
            text = None
            if wait is not None:
                text = wait.source
            elif ex.version_hash:
                found = await reads.fetch(
                    self.pool,
                    "definition_source",
                    {"name": ex.name, "version_hash": ex.version_hash},
                )
                text = found[0]["source"] if found else None
            if text is not None:
                line, end = (wait.line, wait.end_line) if wait else (None, None)
                source = source_lines(text, line, end)
        numbers = [r["step"] for r in steps]
        # "now" of an unfinished workflow is its last kept suspension; of a finished one, after it
        now_at = len(numbers) - (0 if ex.finished else 1)
        at = numbers.index(step) if step in numbers else now_at
        # The snapshot on the page ("Restart from here" starts from it): the chosen one, or now
        shown_step = step if step is not None else (numbers[at] if 0 <= at < len(numbers) else None)
        restarts = await reads.fetch(self.pool, "execution_restarts", {"id": ex.id})
        return self.render(
            request,
            "execution.html",
            ex=ex,
            inspection=inspection,
            wait=wait,
            wait_problem=wait_problem,
            step=step,
            steps=steps,
            earlier=numbers[at - 1] if at > 0 else None,
            later=numbers[at + 1] if at + 1 < len(numbers) else None,
            shown_step=shown_step,
            restarts=restarts,
            signals=signals,
            waits=waits,
            source=source,
            message=request.query_params.get("message"),
        )

    async def _past(
        self, execution_id: str, name: str, chosen: str
    ) -> tuple[int | None, WaitPoint | None, str | None]:
        """The wait point of one kept suspension (`?step=N`), or why it cannot be shown."""
        try:
            number = int(chosen)
        except ValueError:
            return None, None, f"not a step number: {chosen!r}"
        rows = await reads.fetch(
            self.pool, "history_snapshot", {"id": execution_id, "step": number}
        )
        if not rows:
            return None, None, f"no snapshot of step {number} is kept for this workflow"
        row = rows[0]
        wait, problem = wait_point(name, row["version_hash"], row["source"], row["state"])
        return number, wait, problem

    async def definitions(self, request: Request) -> Response:
        rows = await reads.fetch(self.pool, "definitions")
        by_name: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_name.setdefault(row["name"], []).append(row)
        return self.render(request, "definitions.html", by_name=by_name)

    async def diff(self, request: Request) -> Response:
        name = request.path_params["name"]
        old, new = request.query_params.get("a", ""), request.query_params.get("b", "")
        sources = []
        for version in (old, new):
            found = await reads.fetch(
                self.pool, "definition_source", {"name": name, "version_hash": version}
            )
            if not found:
                return self.render(
                    request,
                    "error.html",
                    status_code=404,
                    message=f"workflow {name!r} has no version {version!r}",
                )
            sources.append(found[0]["source"])
        lines = version_diff(sources[0], sources[1], old[:12], new[:12])
        return self.render(request, "diff.html", name=name, a=old, b=new, lines=lines)

    async def metrics(self, request: Request) -> Response:
        overview = await self.client.status()
        executions = await reads.fetch(self.pool, "metrics_executions")
        durations = await reads.fetch(
            self.pool, "metrics_durations", {"bounds": list(metrics.BOUNDS)}
        )
        bounds = {"bounds": list(metrics.BOUNDS)}
        task_waits = await reads.fetch(self.pool, "metrics_task_waits", bounds)
        steps = await reads.fetch(
            self.pool, "metrics_step_latency", {**bounds, "sample": metrics.STEP_SAMPLE}
        )
        body = metrics.render(metrics.Snapshot(overview, executions, durations, task_waits, steps))
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def events(self, request: Request) -> Response:
        return StreamingResponse(
            self.live.stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    # -- actions (Guard has checked the token, read-only mode and CSRF already)

    async def cancel(self, request: Request) -> Response:
        execution_id = request.path_params["id"]
        try:
            cancelled = await self.client.executions.cancel(execution_id)
        except RhythmError as exc:
            return self._after(execution_id, str(exc))
        return self._after(execution_id, "cancelled" if cancelled else "it had already finished")

    async def retry(self, request: Request) -> Response:
        execution_id = request.path_params["id"]
        try:
            await self.client.executions.retry(execution_id)
        except RhythmError as exc:
            return self._after(execution_id, str(exc))
        return self._after(execution_id, f"retrying task {execution_id}")

    async def restart(self, request: Request) -> Response:
        """A new execution from a kept snapshot (form field from_step; none: the last one)."""
        execution_id = request.path_params["id"]
        text = posted_form(request).get("from_step", "").strip()
        try:
            from_step = int(text) if text else None
        except ValueError:
            return self._after(execution_id, f"not a step number: {text!r}")
        try:
            new = await self.client.executions.restart(execution_id, from_step=from_step)
        except RhythmError as exc:
            return self._after(execution_id, str(exc))
        where = {0: "the beginning", None: "its last kept snapshot"}.get(
            from_step, f"step {from_step}"
        )
        return self._after(new, f"restarted from {execution_id} at {where}")

    async def signal(self, request: Request) -> Response:
        execution_id = request.path_params["id"]
        form = posted_form(request)
        name = form.get("name", "").strip()
        text = form.get("payload", "").strip() or "null"
        if not name:
            return self._after(execution_id, "a signal needs a name")
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            shown = text if len(text) <= 60 else text[:57] + "..."
            return self._after(
                execution_id,
                f"the payload is not valid JSON ({exc.msg} at column {exc.colno}): {shown}",
            )
        try:
            await self.client.signals.send(execution_id, name, payload)
        except RhythmError as exc:
            return self._after(execution_id, str(exc))
        return self._after(execution_id, f"sent signal {name!r}")

    @staticmethod
    def _after(execution_id: str, message: str) -> Response:
        query = urlencode({"message": message})
        return RedirectResponse(f"/executions/{execution_id}?{query}", status_code=303)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.pool.open()
        self.live.start()
        try:
            yield
        finally:
            await self.live.stop()
            await self.client.close()
            await self.pool.close()


def _time(text: str | None, field: str, problems: list[str]) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        problems.append(f"{field}: not a date and time such as 2026-01-31T12:00: {text!r}")
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def create_app(settings: ConsoleSettings) -> Starlette:
    """The console as an ASGI app (run it with uvicorn; `rhythm console` does)."""
    console = Console(settings)
    routes = [
        Route("/", console.overview),
        Route("/executions", console.executions),
        Route("/executions/{id}", console.execution),
        Route("/workflows", console.definitions),
        Route("/workflows/{name}/diff", console.diff),
        Route("/events", console.events),
        Route("/metrics", console.metrics),
    ]
    if not settings.read_only:
        routes += [
            Route("/executions/{id}/cancel", console.cancel, methods=["POST"]),
            Route("/executions/{id}/signal", console.signal, methods=["POST"]),
            Route("/executions/{id}/retry", console.retry, methods=["POST"]),
            Route("/executions/{id}/restart", console.restart, methods=["POST"]),
        ]
    app = Starlette(routes=routes, lifespan=console.lifespan)
    app.add_middleware(Guard, token=settings.token, read_only=settings.read_only)
    app.state.console = console
    return app
