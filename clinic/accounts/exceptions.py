from clinic.core.exceptions import DomainError


class UnknownRole(DomainError):
    code = "unknown_role"
