"""A stand-in for a worker on a newer rhythm-core, for tests/test_workflow_upgrades.py: its
snapshot formats come after every format this release reads (it writes NEWER_FORMAT, and
NEWER_FORMAT + 1 where this release writes FORMAT_OBJECTS), so the snapshots it saves are ones
today's rhythm-core refuses (IncompatibleSnapshot), and it refuses today's. `rhythm worker --app
wf_newer_core` runs the `double` task of wf_tasks."""

from __future__ import annotations

from rhythm.core import snapshot

NEWER_FORMAT = max(snapshot._READABLE) + 1
# Before anything is compiled: fingerprints include the format.
snapshot.FORMAT, snapshot.FORMAT_OBJECTS = NEWER_FORMAT, NEWER_FORMAT + 1
snapshot._READABLE = (NEWER_FORMAT, NEWER_FORMAT + 1)

from wf_tasks import double  # noqa: E402, F401  (the task this worker runs)
