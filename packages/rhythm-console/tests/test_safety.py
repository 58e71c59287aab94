"""The console's guards: the token on every request, read-only mode, CSRF on every POST, and
the rule that only a loopback address may go without a token."""

from __future__ import annotations

import pytest

from rhythm.client import Client
from rhythm.console.settings import ConsoleSettings, ConsoleSettingsError

TOKEN = "a-test-token-of-some-length"


def test_only_loopback_may_go_without_a_token() -> None:
    ConsoleSettings(database_url="postgresql://x", host="127.0.0.1")
    ConsoleSettings(database_url="postgresql://x", host="::1")
    with pytest.raises(ConsoleSettingsError, match=r"binding 0\.0\.0\.0 .* requires a token"):
        ConsoleSettings(database_url="postgresql://x", host="0.0.0.0")
    with pytest.raises(ConsoleSettingsError, match="at least 16 characters, got 5"):
        ConsoleSettings(database_url="postgresql://x", host="0.0.0.0", token="short")
    ConsoleSettings(database_url="postgresql://x", host="0.0.0.0", token=TOKEN)


@pytest.mark.parametrize("path", ["/", "/executions", "/workflows", "/events"])
def test_the_token_is_checked_on_every_request(make_console, path: str) -> None:
    console = make_console(token=TOKEN)
    assert console.get(path).status_code == 401
    assert (
        console.get(path, headers={"Authorization": "Bearer wrong-token-wrong"}).status_code == 401
    )
    if path != "/events":  # a stream never ends; its 401 above is what matters
        assert console.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_token_in_the_address_becomes_a_cookie(make_console) -> None:
    console = make_console(token=TOKEN)
    first = console.get(f"/executions?token={TOKEN}&type=task", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "http://127.0.0.1:8765/executions?type=task"
    assert console.get("/executions?type=task").status_code == 200  # the cookie carries it
    assert console.post("/executions/x/cancel", data={}).status_code == 403  # still needs CSRF


def test_read_only_hides_and_refuses_every_action(client: Client, make_console, csrf_of) -> None:
    wid = client.workflows.run("waiter", {"order": "ro"})
    writable = make_console()
    assert 'id="cancel"' in writable.get(f"/executions/{wid}").text
    console = make_console(read_only=True)
    page = console.get(f"/executions/{wid}").text
    assert 'id="cancel"' not in page and "signal-form" not in page
    token = csrf_of(console)
    for action in ("cancel", "signal", "retry", "restart"):
        refused = console.post(
            f"/executions/{wid}/{action}", data={"csrf": token, "name": "approve"}
        )
        assert refused.status_code == 403
        assert refused.text == "this console is read-only: actions are turned off"
    assert client.executions.get(wid).status == "pending"


def test_every_post_needs_the_csrf_token(client: Client, make_console, csrf_of) -> None:
    wid = client.workflows.run("waiter", {"order": "csrf"}, queue="parked")
    console = make_console()
    token = csrf_of(console)
    url = f"/executions/{wid}/cancel"
    missing = console.post(url, data={})
    assert missing.status_code == 403 and "CSRF token is missing or stale" in missing.text
    assert console.post(url, data={"csrf": "x" * 43}).status_code == 403
    foreign = console.post(url, data={"csrf": token}, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "another site (http://evil.example)" in foreign.text
    assert client.executions.get(wid).status == "pending"
    done = console.post(url, data={"csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    assert client.executions.get(wid).status == "cancelled"
    assert "cancelled" in console.get(done.headers["location"]).text


def test_retry_a_failed_task_from_the_page_and_the_command(
    client: Client, make_console, csrf_of, migrated_url: str
) -> None:
    import psycopg
    from click.testing import CliRunner

    from rhythm.client.cli import cli

    tid = client.tasks.run("console.flaky", {}, queue="retries")
    other = client.tasks.run("console.flaky", {}, queue="retries")
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(
            "DELETE FROM rhythm.ready WHERE execution_id = ANY(%s::uuid[])", ([tid, other],)
        )
        conn.execute(
            "UPDATE rhythm.executions SET status = 'failed', attempt = 1, completed_at = now(), "
            """error = '{"type": "Boom", "message": "no"}' WHERE id = ANY(%s::uuid[])""",
            ([tid, other],),
        )
    console = make_console()
    assert 'id="retry"' in console.get(f"/executions/{tid}").text
    done = console.post(f"/executions/{tid}/retry", data={"csrf": csrf_of(console)})
    assert f"retrying task {tid}" in done.text
    assert client.executions.get(tid).status == "pending"
    again = console.post(f"/executions/{tid}/retry", data={"csrf": csrf_of(console)})
    assert f"task {tid} is pending, not failed; nothing to retry" in again.text

    result = CliRunner().invoke(cli, ["retry", other, "--database-url", migrated_url])
    assert result.exit_code == 0 and result.output == f"retrying task {other}\n"
    bad = CliRunner().invoke(cli, ["retry", "nope", "--database-url", migrated_url])
    assert bad.exit_code == 1 and "not an execution id: 'nope'" in bad.output
