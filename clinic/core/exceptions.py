"""Domain errors with stable codes.

The API maps them to one error envelope (`{"detail": ..., "code": ...}`) and
pages show them as form errors. `field` names the input at fault, when one is.
"""

from __future__ import annotations

from clinic.core.request_context import note_refusal


class DomainError(Exception):
    code = "domain_error"
    status = 422

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    """Also raised when the record exists but the actor may not see it: the two look the same."""

    code = "not_found"
    status = 404

    def __init__(self, message: str = "Not found.", **kwargs):
        super().__init__(message, **kwargs)


class PermissionDenied(DomainError):
    """A refusal. Once the request it refused has been answered it is audited as a denial
    (RequestContextMiddleware), unless the code that refused has audited it itself
    (`audited`). `capability` names what the role lacks, when that was the reason."""

    code = "permission_denied"
    status = 403

    def __init__(
        self,
        message: str = "Your role does not allow this.",
        *,
        capability: str = "",
        audited: bool = False,
        **kwargs,
    ):
        super().__init__(message, **kwargs)
        self.capability = capability
        self.audited = audited
        note_refusal(self)


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidInput(DomainError):
    """Bad input for one or more fields; `errors` maps a field name to its messages."""

    code = "invalid_input"
    status = 422

    def __init__(self, errors: dict[str, list[str]], message: str = "Some values are not valid."):
        super().__init__(message, field=next(iter(errors), None))
        self.errors = errors
