"""Handlers never take the server down: an exception becomes a logged error and an empty result."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pygls.exceptions import JsonRpcException

log = logging.getLogger("rhythm.lsp")

F = TypeVar("F", bound=Callable[..., Any])


REQUEST_FAILED = -32803  # LSP's RequestFailed error code


class Refused(JsonRpcException):
    """A request the server declines on purpose (a rename to a keyword, say): answered with a
    plain LSP error carrying `message`, and not logged as a failure (see `quiet_refusals`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message, code=REQUEST_FAILED)


class _DropRefusals(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, Refused)


def quiet_refusals() -> None:
    """pygls logs every error answer with a traceback ("Failed to handle request ..."), which
    editors show in their LSP log as a crash. A deliberate refusal is no crash: drop those."""
    for name in ("pygls.protocol.json_rpc", "pygls.protocol", "pygls"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropRefusals) for f in logger.filters):
            logger.addFilter(_DropRefusals())


class Unavailable(Exception):
    """A request the server cannot answer but that is no error of its own (e.g. for a document
    that was never opened and does not exist): answered with the empty result, logged quietly."""


def report_error(ls: Any, name: str, error: BaseException) -> None:
    """Log an unexpected exception to stderr and to the client's log."""
    log.exception("%s failed: %s", name, error)
    try:
        from lsprotocol import types

        ls.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Error,
                message=f"rhythm-lsp: {name} failed: {type(error).__name__}: {error}",
            )
        )
    except Exception:  # the client connection itself may be gone
        log.debug("could not send the error to the client", exc_info=True)


def guarded(default: Callable[[], Any] = lambda: None) -> Callable[[F], F]:
    """Wrap a feature handler `(ls, params)`: on any exception log it and return `default()`.
    A `JsonRpcException` is a deliberate error answer and passes through."""

    def decorate(handler: F) -> F:
        name = handler.__name__
        if inspect.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def async_wrapper(ls: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    return await handler(ls, *args, **kwargs)
                except JsonRpcException:
                    raise  # a deliberate error answer (e.g. a refused rename)
                except Unavailable as error:
                    log.info("%s: %s", name, error)
                    return default()
                except Exception as error:
                    report_error(ls, name, error)
                    return default()

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(handler)
        def wrapper(ls: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return handler(ls, *args, **kwargs)
            except JsonRpcException:
                raise  # a deliberate error answer (e.g. a refused rename)
            except Unavailable as error:
                log.info("%s: %s", name, error)
                return default()
            except Exception as error:
                report_error(ls, name, error)
                return default()

        return wrapper  # type: ignore[return-value]

    return decorate
