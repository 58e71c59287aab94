"""`/metrics` in Prometheus' text format, built with prometheus-client from what the database
holds at scrape time: queue depths (ready, scheduled, running), executions by type, name and
status, and histograms over the last hour:

    rhythm_task_run_seconds               task run time (first start to end, all attempts)
    rhythm_task_queue_seconds             task latency: creation to first start (queue wait)
    rhythm_workflow_run_seconds           workflow run time (first step to end)
    rhythm_workflow_step_latency_seconds  step latency, wake-up to step: from a result a
                                          workflow receives from a child (task or child
                                          workflow) to the commit of the step that reads it
                                          (see metrics_step_latency in console.sql)

The console keeps no counters of its own, so any number of consoles report the same figures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from rhythm.client.models import Overview

# Step latency looks at this many of the latest child results (a bounded scrape).
STEP_SAMPLE = 5000
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Snapshot:
    """A collector over rows read once for one scrape."""

    def __init__(
        self,
        overview: Overview,
        executions: list[dict[str, Any]],
        durations: list[dict[str, Any]],
        task_waits: list[dict[str, Any]] | None = None,
        step_latencies: list[dict[str, Any]] | None = None,
    ) -> None:
        self.overview = overview
        self.executions = executions
        self.durations = durations
        self.task_waits = task_waits or []
        self.step_latencies = step_latencies or []

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "rhythm_queue_depth",
            "Executions per queue and state right now.",
            labels=["queue", "state"],
        )
        for q in self.overview.queues:
            depth.add_metric([q.queue, "ready"], q.ready)
            depth.add_metric([q.queue, "scheduled"], q.scheduled)
            depth.add_metric([q.queue, "running"], q.running)
        yield depth
        count = GaugeMetricFamily(
            "rhythm_executions",
            "Executions in the table (until pruned) by type, name and status.",
            labels=["type", "name", "status"],
        )
        for row in self.executions:
            count.add_metric([row["type"], row["name"], row["status"]], row["n"])
        yield count
        yield from self._histograms()

    def _histograms(self) -> Iterator[Metric]:
        runs: dict[str, list[dict[str, Any]]] = {"task": [], "workflow": []}
        for row in self.durations:
            runs[row["type"]].append(row)
        yield _histogram(
            "rhythm_task_run_seconds",
            "Run time (start to end, all attempts) of tasks that finished in the last hour.",
            runs["task"],
        )
        yield _histogram(
            "rhythm_task_queue_seconds",
            "Task latency: creation to first start, of tasks that finished in the last hour.",
            self.task_waits,
        )
        yield _histogram(
            "rhythm_workflow_run_seconds",
            "Run time (first step to end) of workflows that finished in the last hour.",
            runs["workflow"],
        )
        yield _histogram(
            "rhythm_workflow_step_latency_seconds",
            "Workflow step latency, wake-up to step: from a child's result (task or child "
            "workflow) to the commit of the step that reads it, in the last hour.",
            self.step_latencies,
        )


def _histogram(name: str, documentation: str, rows: list[dict[str, Any]]) -> Metric:
    """A histogram family per name from rows of (name, bucket, n, total), bucket i counting the
    values at or below BOUNDS[i] and above the bound before (len(BOUNDS): above all)."""
    family = HistogramMetricFamily(name, documentation, labels=["name"])
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["name"], []).append(row)
    for label, found in sorted(grouped.items()):
        per_bucket = {r["bucket"]: r["n"] for r in found}
        running = 0
        buckets = []
        for i, bound in enumerate(BOUNDS):
            running += per_bucket.get(i, 0)
            buckets.append((repr(bound), running))
        buckets.append(("+Inf", sum(r["n"] for r in found)))
        family.add_metric([label], buckets, sum(r["total"] or 0.0 for r in found))
    return family


def render(snapshot: Snapshot) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(snapshot)  # type: ignore[arg-type]
    return generate_latest(registry)
