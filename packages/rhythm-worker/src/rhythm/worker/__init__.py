"""Rhythm's worker: the @task registry, the Worker and the `rhythm worker` command."""
