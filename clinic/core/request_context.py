"""Where a request came from, kept for the audit trail without passing it everywhere."""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    channel: str = "system"  # web, api, command, system


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "ketacare_request_context", default=None
)


def current_request_context() -> RequestContext:
    return _current.get() or RequestContext()


def set_request_context(context: RequestContext) -> contextvars.Token:
    return _current.set(context)


def reset_request_context(token: contextvars.Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def request_context(context: RequestContext) -> Iterator[RequestContext]:
    """Run a block (a management command, a background job) under a given context."""
    token = set_request_context(context)
    try:
        yield context
    finally:
        reset_request_context(token)


# The refusals (PermissionDenied) raised while a request is served, audited once it has been
# answered: after the transaction a refusal may have rolled back, and whether or not a page
# caught the refusal to show it as a message.
_refusals: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "ketacare_refusals", default=None
)


def note_refusal(error: Exception) -> None:
    pending = _refusals.get()
    if pending is not None:
        pending.append(error)


@contextlib.contextmanager
def collecting_refusals() -> Iterator[list]:
    pending: list = []
    token = _refusals.set(pending)
    try:
        yield pending
    finally:
        _refusals.reset(token)


# The read events (and denials) recorded while a request is served, written at its end in one
# sealed batch (clinic/core/audit.py, audit_flush). None outside a request: written at once.
_audit_buffer: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "ketacare_audit_buffer", default=None
)


def current_audit_buffer() -> list | None:
    return _audit_buffer.get()


@contextlib.contextmanager
def buffering_audit() -> Iterator[list]:
    pending: list = []
    token = _audit_buffer.set(pending)
    try:
        yield pending
    finally:
        _audit_buffer.reset(token)
