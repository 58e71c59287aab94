"""A stand-in for a worker on a newer rhythm-core, for tests/test_workflow_upgrades.py: its
snapshot format is one above this release's, so the snapshots it saves are ones today's
rhythm-core refuses (IncompatibleSnapshot), and it refuses today's. `rhythm worker --app
wf_newer_core` runs the `double` task of wf_tasks."""

from __future__ import annotations

from rhythm.core import snapshot

snapshot.FORMAT += 1  # before anything is compiled: fingerprints include the format

from wf_tasks import double  # noqa: E402, F401  (the task this worker runs)
