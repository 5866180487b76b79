from clinic.core.exceptions import DomainError, PermissionDenied


class UnknownRole(DomainError):
    code = "unknown_role"


class SecondFactorRequired(PermissionDenied):
    """With REQUIRE_STAFF_2FA on, an API token is only for staff who have enrolled a second
    factor: otherwise the token would be a way round it."""

    code = "second_factor_required"

    def __init__(self, message: str = "", **kwargs):
        super().__init__(
            message
            or "Enrol an authenticator app (your second factor) before creating an API token.",
            **kwargs,
        )
