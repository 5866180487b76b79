def location(request):
    """The top bar's location switcher: shown only to someone with more than one location."""
    workplace = getattr(request, "workplace", None)
    return {
        "workplace": workplace,
        "location_switcher": bool(workplace is not None and workplace.switchable),
    }
