"""Closing a session's record through the API: the signature, addenda after it, and the REMS
monitoring form — the same services, rules and audit as the pages."""

from ninja import Router

router = Router(tags=["treatment sessions"])
