"""`/metrics` in Prometheus' text format, built with prometheus-client from what the database
holds at scrape time: queue depths (ready, scheduled, running), executions by type, name and
status, and run-time histograms of the tasks and workflows that finished in the last hour.
The console keeps no counters of its own, so any number of consoles report the same figures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from rhythm.client.models import Overview

BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Snapshot:
    """A collector over rows read once for one scrape."""

    def __init__(
        self, overview: Overview, executions: list[dict[str, Any]], durations: list[dict[str, Any]]
    ) -> None:
        self.overview = overview
        self.executions = executions
        self.durations = durations

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
        grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in self.durations:
            grouped.setdefault((row["type"], row["name"]), []).append(row)
        families = {
            "task": HistogramMetricFamily(
                "rhythm_task_run_seconds",
                "Run time (start to end, all attempts) of tasks that finished in the last hour.",
                labels=["name"],
            ),
            "workflow": HistogramMetricFamily(
                "rhythm_workflow_run_seconds",
                "Run time (first step to end) of workflows that finished in the last hour.",
                labels=["name"],
            ),
        }
        for (kind, name), rows in sorted(grouped.items()):
            per_bucket = {r["bucket"]: r["n"] for r in rows}
            running = 0
            buckets = []
            for i, bound in enumerate(BOUNDS):
                running += per_bucket.get(i, 0)
                buckets.append((repr(bound), running))
            buckets.append(("+Inf", sum(r["n"] for r in rows)))
            families[kind].add_metric([name], buckets, sum(r["total"] or 0.0 for r in rows))
        yield from families.values()


def render(snapshot: Snapshot) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(snapshot)  # type: ignore[arg-type]
    return generate_latest(registry)
