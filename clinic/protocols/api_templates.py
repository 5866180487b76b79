"""Protocol templates through the API: the versioned protocols plans are built from."""

from ninja import Router

router = Router(tags=["protocol templates"])
