"""Which database failures deserve another try, for how long, and what the caller sees after.

Nearly every statement the clients run is safe to run twice. Reads, cancel and prune are
idempotent by nature; an idempotency key makes its enqueue idempotent; and every other insert
carries an id the client made up before sending it, so when the reply to a committed insert is
lost the second try fails on that id's primary key, which proves the first one landed
(`landed_before`). A call that fails because the database went away (a restart, a dropped
connection, a refused connect) is therefore tried again with a short backoff until
`RetryPolicy.seconds` have passed since the call began; then it raises DatabaseUnavailable naming
the host (never the password). Anything else (a constraint, a bad value, a statement that hit
statement_timeout) is not retried. A step that is NOT safe to repeat says so (`replay_safe=False`
in rhythm.client.operations): the clients then retry it only while it had not reached its
COMMIT."""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
from psycopg import errors as pg_errors

from rhythm.client.database import conninfo_user, describe_target, one_line
from rhythm.client.errors import DatabaseUnavailable, PermissionDenied, SchemaMissing

RETRY_SECONDS = 15.0
FIRST_DELAY_SECONDS = 0.05
MAX_DELAY_SECONDS = 0.5
# admin_shutdown (a restart or pg_terminate_backend), crash_shutdown, cannot_connect_now (still
# starting up): the statement never ran, or its transaction was rolled back with the server.
GONE_STATES = {"57P01", "57P02", "57P03"}
STATEMENT_TIMEOUT = "57014"
# undefined_table, undefined_column, undefined_function, invalid_schema_name
MISSING_OBJECT_STATES = {"42P01", "42703", "42883", "3F000"}


def transient(exc: BaseException) -> bool:
    """True when `exc` means the database (or the way to it) is gone for now, not that the
    statement itself is wrong."""
    if isinstance(exc, DatabaseUnavailable):  # a connect that failed, or no free connection
        return True
    if isinstance(exc, psycopg.OperationalError):
        state = exc.sqlstate
        # No SQLSTATE: libpq lost the connection ("server closed the connection unexpectedly").
        # Class 08: connection exceptions; class 53: out of connections or memory.
        return state is None or state[:2] in ("08", "53") or state in GONE_STATES
    # Using a connection psycopg already knows to be closed.
    return isinstance(exc, psycopg.InterfaceError)


def landed_before(exc: BaseException) -> bool:
    """A retried insert collided with its own id: the earlier attempt committed."""
    return (
        isinstance(exc, pg_errors.UniqueViolation) and exc.diag.constraint_name == "executions_pkey"
    )


def schema_missing(exc: BaseException, url: str) -> SchemaMissing | None:
    """SchemaMissing when `exc` says an object of the rhythm schema does not exist: the database
    was never migrated, or was migrated by an older Rhythm."""
    if not isinstance(exc, psycopg.Error) or exc.sqlstate not in MISSING_OBJECT_STATES:
        return None
    if "rhythm" not in str(exc):
        return None
    return SchemaMissing(
        f"the database at {describe_target(url)} has no Rhythm schema, or an older one than "
        "this version needs: run `rhythm migrate`"
    )


def permission_denied(exc: BaseException, url: str) -> PermissionDenied | None:
    """PermissionDenied naming the role and Postgres' reason, when `exc` is insufficient_privilege."""
    if not isinstance(exc, pg_errors.InsufficientPrivilege):
        return None
    role = conninfo_user(url)
    return PermissionDenied(
        f"{one_line(exc, url)} (role {role!r} at {describe_target(url)}; the privileges each "
        "command needs: docs/python-api.md, Privileges)"
    )


@dataclass(frozen=True)
class RetryPolicy:
    """How long a call keeps trying while the database is unreachable (0: never retry)."""

    seconds: float = RETRY_SECONDS

    def start(
        self, url: str, statement_timeout: float | None, patience: float | None = None
    ) -> Attempts:
        """The retry state of one call; `patience` lengthens the budget (a wait's deadline)."""
        return Attempts(max(self.seconds, patience or 0.0), url, statement_timeout)


class Attempts:
    """The retry state of one call. `failed(exc)` re-raises what must not be retried and returns
    how long to sleep before the next try; the sync and async clients only differ in how they
    sleep."""

    def __init__(self, seconds: float, url: str, statement_timeout: float | None) -> None:
        self._deadline = time.monotonic() + seconds
        self._url = url
        self._statement_timeout = statement_timeout
        self._delay = FIRST_DELAY_SECONDS
        self.count = 0

    def remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    def failed(self, exc: BaseException) -> float:
        self.count += 1
        where = describe_target(self._url)
        if isinstance(exc, pg_errors.QueryCanceled) and exc.sqlstate == STATEMENT_TIMEOUT:
            limit = f" ({self._statement_timeout:g} s)" if self._statement_timeout else ""
            raise DatabaseUnavailable(
                f"the database at {where} did not finish a statement within its "
                f"statement_timeout{limit}"
            ) from None
        if not transient(exc):
            raise schema_missing(exc, self._url) or permission_denied(exc, self._url) or exc
        remaining = self.remaining()
        if remaining <= 0:
            reason = one_line(exc, self._url)
            if isinstance(exc, DatabaseUnavailable):
                raise DatabaseUnavailable(
                    f"{reason} (gave up after {self.count} attempt(s))"
                ) from None
            raise DatabaseUnavailable(
                f"lost the connection to the database at {where} and could not get it back "
                f"({self.count} attempt(s)): {reason}"
            ) from None
        delay = min(self._delay, remaining)
        self._delay = min(self._delay * 2, MAX_DELAY_SECONDS)
        return delay
