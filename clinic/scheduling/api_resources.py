"""The schedule's resources through the API: rooms, chairs, opening hours and staff shifts."""

from ninja import Router

router = Router(tags=["schedule resources"])
