"""Bounded exponential backoff (tenacity) around calls that reach another service."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
)

from carehub.errors import ServiceUnavailable

T = TypeVar("T")
log = logging.getLogger("carehub.connectivity")

#: Exceptions that mean "not reachable (yet)"; anything else is a real error and is not retried.
Transient = Callable[[BaseException], bool]


def call_with_backoff(
    fn: Callable[[], T],
    *,
    service: str,
    url: str,
    setting: str,
    transient: Transient,
    budget_s: float,
    max_wait_s: float = 5.0,
) -> T:
    """Call `fn` until it succeeds, retrying transient failures with exponential backoff for at
    most `budget_s` seconds; then raise `ServiceUnavailable` naming `url` and `setting`."""

    def announce(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "waiting for %s at %s (attempt %d failed: %s); retrying in %.1f s",
            service, url, state.attempt_number, type(exc).__name__, wait,
        )

    retrying = Retrying(
        retry=retry_if_exception(transient),
        stop=stop_after_delay(budget_s),
        wait=wait_exponential(multiplier=0.2, max=max_wait_s),
        before_sleep=announce,
        reraise=True,
    )
    try:
        return retrying(fn)
    except Exception as exc:
        if transient(exc):
            raise ServiceUnavailable(service, url, setting, exc) from exc
        raise
