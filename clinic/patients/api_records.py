"""Right-of-access records requests through the API: the same log, due dates and files as the
records request pages."""

from ninja import Router

router = Router(tags=["records requests"])
