"""/favicon.ico: browsers ask for it at the site's root whatever the page links. It answers with
a redirect to the static icon (KetaCare's own drawing, core/favicon.ico; pages link the SVG
version), so the request never ends in a 404 and the icon is served, cached and fingerprinted
like every other static file."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


@require_safe
@cache_control(public=True, max_age=24 * 60 * 60)
def favicon(request):
    return HttpResponseRedirect(static("core/favicon.ico"))
