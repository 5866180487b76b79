"""The care team's side of the at-home program through the API: the blood-pressure alerts a
patient's at-home reading raised, as the alerts page lists them."""

from ninja import Router

router = Router(tags=["at-home alerts"])
