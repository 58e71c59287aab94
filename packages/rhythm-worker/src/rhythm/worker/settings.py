"""A worker's timing knobs. Defaults suit production; tests shrink them to run in seconds."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerSettings:
    lease_seconds: float = 30.0  # a claim is held this long; renewed every third of it
    poll_interval: float = 1.0  # fallback when no NOTIFY arrives; also the scheduled-work scan
    retry_backoff: float = 1.0  # the first retry waits about this long, then twice as long...
    retry_backoff_max: float = 600.0
    grace_period: float = 30.0  # on SIGTERM, running tasks get this long before hand-back
    claim_batch: int = 32  # most executions claimed in one round trip
    flushers: int = 3  # concurrent connections writing batched results
    lost_worker_retries: int = 3  # extra runs granted to work whose worker died
    # A statement with no answer after this long counts as an outage (a silent network): its
    # connection is cut and the statement retried on a fresh one.
    statement_timeout: float = 30.0
    # A workflow this worker cannot resume (a snapshot of another rhythm-core) is handed back
    # and left out of this worker's claims for this long, for a worker that can resume it.
    hand_back_seconds: float = 60.0
    # Eager dispatch and resume: a step's commit creates the tasks this worker can run at once
    # already claimed by it, and storing a task's result claims the parent workflow it wakes,
    # each in the same transaction, when the worker has a free slot (docs/workflows.md).
    eager: bool = True
    # Eager continuation (an eager path too): when a task this worker runs returns and its
    # parent workflow awaits it alone, as the worker's own last commit of that workflow left it,
    # the next step runs on that snapshot and commits with the task's result in one transaction.
    chain: bool = True

    def __post_init__(self) -> None:
        for field in (
            "lease_seconds",
            "poll_interval",
            "retry_backoff",
            "retry_backoff_max",
            "statement_timeout",
            "hand_back_seconds",
        ):
            value = getattr(self, field)
            if not value > 0:
                raise ValueError(f"{field} must be > 0, got {value!r}")
        if self.grace_period < 0:
            raise ValueError(f"grace_period must be >= 0, got {self.grace_period!r}")
        if self.claim_batch < 1 or self.flushers < 1 or self.lost_worker_retries < 0:
            raise ValueError("claim_batch and flushers must be >= 1, lost_worker_retries >= 0")

    def backoff(self, attempt: int) -> float:
        """Seconds before retrying after failed attempt `attempt` (1-based): exponential, capped,
        with jitter in [half, full] of the step so that a burst of failures spreads out."""
        step = min(self.retry_backoff_max, self.retry_backoff * 2 ** max(0, attempt - 1))
        return step / 2 + random.random() * step / 2
