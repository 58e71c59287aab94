"""The console's pages against a real Postgres and a real worker: overview, executions list
(filters, find, keyset pages), a suspended workflow's waiting line and variables, a task's
error, definitions and diffs; and escaping of every value shown."""

from __future__ import annotations

import html
import re
from pathlib import Path

from rhythm.client import Client


def test_overview_shows_queues_and_the_chart(client: Client, make_console) -> None:
    client.tasks.run("console.later", {}, queue="slow", delay=600)
    page = make_console().get("/")
    assert page.status_code == 200
    assert "<svg" in page.text and 'id="throughput"' in page.text
    assert re.search(r"slow</a></td><td>0</td><td>1</td><td>0</td>", page.text)


def test_a_suspended_workflow_shows_its_waiting_line_and_variables(
    client: Client, worker, make_console, wait_until, csrf_of
) -> None:
    wid = client.workflows.run("waiter", {"order": "A-1"})
    wait_until(lambda: client.executions.get(wid).status == "suspended")
    console = make_console()
    page = console.get(f"/executions/{wid}")
    assert page.status_code == 200
    marked = re.search(
        r'<div class="waiting" id="waiting-line"><span class="ln">(\d+)</span>', page.text
    )
    assert marked and marked[1] == "3"
    variables = page.text[page.text.index('id="variables"') :]
    assert "order" in variables and "&#34;A-1&#34;" in variables and "&#34;asked&#34;" in variables
    assert 'name="name" placeholder="signal name" value="approve"' in page.text

    # the signal form sends; the workflow moves on to its second wait
    sent = console.post(
        f"/executions/{wid}/signal",
        data={"csrf": csrf_of(console), "name": "approve", "payload": '{"by": "ann"}'},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    wait_until(
        lambda: 'id="waiting-line"><span class="ln">5<' in console.get(f"/executions/{wid}").text
    )
    page = console.get(f"/executions/{wid}").text
    assert "signal approve" in page and "&#34;approved&#34;" in page


def test_a_bad_signal_payload_is_named(client: Client, worker, make_console, csrf_of) -> None:
    wid = client.workflows.run("waiter", {"order": "B"})
    console = make_console()
    page = console.post(
        f"/executions/{wid}/signal",
        data={"csrf": csrf_of(console), "name": "approve", "payload": "{nope"},
    )
    assert (
        "the payload is not valid JSON (Expecting property name enclosed in double quotes at column 2): {nope"
        in html.unescape(page.text)
    )


def test_markup_in_names_inputs_and_errors_is_shown_as_text(client: Client, make_console) -> None:
    evil = "<script>alert(1)</script>"
    tid = client.tasks.run(evil, {"note": evil})
    console = make_console()
    listing = console.get("/executions").text
    detail = console.get(f"/executions/{tid}").text
    for page in (listing, detail):
        assert evil not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_executions_filters_find_and_keyset_pages(client: Client, make_console) -> None:
    ids = [client.tasks.run("console.paged", {"i": i}, queue="paging") for i in range(120)]
    key_id = client.tasks.run("console.keyed", {}, idempotency_key="order-77")
    console = make_console()
    seen: list[str] = []
    url: str | None = "/executions?queue=paging&type=task"
    while url:
        page = console.get(url)
        assert page.status_code == 200
        seen += re.findall(r'<a href="/executions/([0-9a-f-]{36})">', page.text)
        found = re.search(r'<a id="next" href="([^"]+)"', page.text)
        url = html.unescape(found[1]) if found else None
    assert seen == list(reversed(ids))  # newest first, every one exactly once
    found = console.get("/executions?find=order-77", follow_redirects=False)
    assert found.headers["location"] == f"/executions/{key_id}"
    assert console.get(f"/executions?find={key_id}", follow_redirects=False).status_code == 303
    missing = console.get("/executions?find=nothing-here")
    assert "no execution has the id or idempotency key &#39;nothing-here&#39;" in missing.text
    bad = console.get("/executions?status=lost&since=yesterday&after=xyz")
    assert bad.status_code == 400
    text = html.unescape(bad.text)
    assert "unknown status 'lost'" in text
    assert "since: not a date and time such as 2026-01-31T12:00: 'yesterday'" in text
    assert "not a page cursor: 'xyz'" in text


def test_definitions_and_a_diff(client: Client, make_console, tmp_path: Path) -> None:
    flow = tmp_path / "versioned.flow"
    flow.write_text("return 1\n", encoding="utf-8")
    client.register_workflows(flow)
    flow.write_text("// two\nreturn 2\n", encoding="utf-8")
    client.register_workflows(flow)
    console = make_console()
    page = console.get("/workflows").text
    assert "<h2>versioned</h2>" in page
    link = re.search(r'href="(/workflows/versioned/diff\?[^"]+)"', page)
    assert link
    diff = console.get(html.unescape(link[1])).text
    assert '<div class="del">-return 1</div>' in diff
    assert '<div class="add">+return 2</div>' in diff
    assert console.get("/workflows/versioned/diff?a=x&b=y").status_code == 404


def test_time_travel_steps_back_through_suspensions(
    client: Client, worker, make_console, wait_until
) -> None:
    wid = client.workflows.run("waiter", {"order": "T-9"})
    wait_until(lambda: client.executions.get(wid).status == "suspended")
    client.signals.send(wid, "approve", {"by": "bo"})
    console = make_console()
    wait_until(lambda: 'id="wait-line">5<' in console.get(f"/executions/{wid}").text)
    now = console.get(f"/executions/{wid}").text
    assert "Suspensions kept: 2." in now and "Showing now." in now
    earlier = re.search(r'<a id="earlier" href="([^"]+)"', now)
    assert earlier
    past = console.get(html.unescape(earlier[1])).text
    assert 'Waited at line <span id="wait-line">3</span>' in past
    assert '<div class="waiting" id="waiting-line"><span class="ln">3</span>' in past
    assert (
        "&#34;asked&#34;" in past
        and "&#34;approved&#34;" not in past.split('id="variables"')[1].split("</table>")[0]
    )
    assert re.search(r'<a id="later" href="[^"]+step=2"', past)
    missing = console.get(f"/executions/{wid}?step=99").text
    assert "no snapshot of step 99 is kept for this workflow" in missing
    assert "not a step number: &#39;x&#39;" in console.get(f"/executions/{wid}?step=x").text


def test_restart_from_a_past_snapshot_on_the_page(
    client: Client, worker, make_console, wait_until, csrf_of
) -> None:
    wid = client.workflows.run("waiter", {"order": "R-1"})
    wait_until(lambda: client.executions.get(wid).status == "suspended")
    client.signals.send(wid, "approve", {"by": "al"})
    client.signals.send(wid, "ship", {"to": "x"})
    wait_until(lambda: client.executions.get(wid).status == "completed")
    console = make_console()
    page = console.get(f"/executions/{wid}?step=1").text
    assert 'id="restart-here"' in page and 'name="from_step" value="1"' in page
    looking = make_console(read_only=True).get(f"/executions/{wid}?step=1").text
    assert 'id="restart-here"' not in looking and 'id="restart"' not in looking
    finished = console.get(f"/executions/{wid}").text
    assert 'id="restart-beginning"' in finished and 'id="restart"' in finished
    done = console.post(
        f"/executions/{wid}/restart",
        data={"csrf": csrf_of(console), "from_step": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    new = done.headers["location"].split("/executions/")[1].split("?")[0]
    assert new != wid
    shown = console.get(done.headers["location"]).text
    assert f"restarted from {wid} at step 1" in shown
    assert f'<a href="/executions/{wid}?step=1">{wid}</a> at step 1' in shown
    wait_until(lambda: client.executions.get(new).status == "suspended")
    assert (
        f'<a href="/executions/{new}">{new}</a> (from step 1'
        in console.get(f"/executions/{wid}").text
    )
    # It resumes at the first await: the signal from the original is not carried over.
    client.signals.send(new, "approve", {"by": "bea"})
    client.signals.send(new, "ship", {"to": "y"})
    assert client.executions.wait(new, timeout=15).output["first"] == {"by": "bea"}
    # A bad step and a workflow without that snapshot: one clear message on the page.
    token = csrf_of(console)
    bad = console.post(f"/executions/{wid}/restart", data={"csrf": token, "from_step": "x"})
    assert "not a step number: &#39;x&#39;" in bad.text
    gone = console.post(f"/executions/{wid}/restart", data={"csrf": token, "from_step": "99"})
    assert f"workflow {wid} has no kept snapshot of step 99; kept: 2 snapshots" in gone.text


def test_metrics_in_prometheus_text_format(
    client: Client, worker, make_console, wait_until
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    wid = client.workflows.run("waiter", {"order": "M"})
    wait_until(lambda: client.executions.get(wid).status == "suspended")
    client.signals.send(wid, "approve", 1)
    client.signals.send(wid, "ship", 2)
    wait_until(lambda: client.executions.get(wid).status == "completed")
    client.tasks.run("console.metric", {}, queue="metered", delay=600)
    page = make_console().get("/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(page.text)}
    depth = {
        (s.labels["queue"], s.labels["state"]): s.value
        for s in families["rhythm_queue_depth"].samples
    }
    assert depth[("metered", "scheduled")] == 1
    counts = {
        (s.labels["name"], s.labels["status"]): s.value
        for s in families["rhythm_executions"].samples
    }
    assert counts[("waiter", "completed")] >= 1
    runs = [
        s
        for s in families["rhythm_workflow_run_seconds"].samples
        if s.labels.get("name") == "waiter"
    ]
    count = next(s.value for s in runs if s.name.endswith("_count"))
    inf = next(s.value for s in runs if s.labels.get("le") == "+Inf")
    assert count == inf >= 1


def test_metrics_step_and_task_latency_histograms(make_console, migrated_url: str) -> None:
    """Rows with known times: a workflow whose step after task A commits 0.25 s after A ends
    (it creates B), whose step after B finishes it 0.5 s after B ends, and whose step after C
    and D (awaited together) creates E 0.1 s after the later of them; each task waited 0.02 s
    in its queue."""
    import uuid

    import psycopg
    from prometheus_client.parser import text_string_to_metric_families

    w, a, b, c, d, e = (str(uuid.uuid4()) for _ in range(6))
    name = f"latency-{w[:8]}"
    base = "now() - interval '10 minutes'"
    rows = [
        # id, parent handle, created, started, completed (seconds after base)
        (a, 1, 0.0, 0.02, 1.0),
        (b, 2, 1.25, 1.27, 2.0),
        (c, 3, 0.5, 0.52, 3.0),
        (d, 4, 0.5, 0.52, 3.5),
        (e, 5, 3.6, 3.62, None),
    ]
    with psycopg.connect(migrated_url) as conn:  # one transaction: one now()
        conn.execute(
            "INSERT INTO rhythm.executions (id, type, name, status, created_at, started_at,"
            f" completed_at) VALUES (%s, 'workflow', %s, 'completed', {base}, {base},"
            f" {base} + interval '2.5 seconds')",
            (w, name),
        )
        for cid, handle, created, started, completed in rows:
            conn.execute(
                "INSERT INTO rhythm.executions (id, type, name, status, parent_id, parent_handle,"
                " created_at, started_at, completed_at) VALUES (%s, 'task', %s, %s, %s, %s,"
                f" {base} + make_interval(secs => %s), {base} + make_interval(secs => %s),"
                f" {base} + make_interval(secs => %s))",
                (cid, f"{name}-task", "completed" if completed else "running", w, handle,
                 created, started, completed),
            )  # fmt: skip
    page = make_console().get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(page)}
    steps = [
        s
        for s in families["rhythm_workflow_step_latency_seconds"].samples
        if s.labels.get("name") == name
    ]
    count = next(s.value for s in steps if s.name.endswith("_count"))
    total = next(s.value for s in steps if s.name.endswith("_sum"))
    le = {s.labels["le"]: s.value for s in steps if s.name.endswith("_bucket")}
    assert count == 3 and abs(total - (0.25 + 0.5 + 0.1)) < 1e-6
    assert (le["0.1"], le["0.25"], le["0.5"], le["+Inf"]) == (1, 2, 3, 3)
    waits = [
        s
        for s in families["rhythm_task_queue_seconds"].samples
        if s.labels.get("name") == f"{name}-task"
    ]
    assert next(s.value for s in waits if s.name.endswith("_count")) == 4  # E is still running
    assert abs(next(s.value for s in waits if s.name.endswith("_sum")) - 0.08) < 1e-6
