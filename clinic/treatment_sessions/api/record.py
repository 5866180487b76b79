"""The session's clinical record through the API: side effects, adverse events, scores,
corrections, the pre-dose blood-pressure confirmation, the pre-check override and the nurse's
note — the same services, rules and audit as the session page's posts."""

from ninja import Router

router = Router(tags=["treatment sessions"])
