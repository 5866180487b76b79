"""Background refreshes are audited once per page load, not once per poll (issue 14).

A page that refreshes itself (the chair board every 15 s, the in-basket) is one page load:
the full page starts it (`page_load_start`) and puts its signed token in the polling URL's
query string; each poll resumes it (`page_load_resume`). The patients a page load has shown
are remembered in the cache under the page load's id, so a poll audits only the patients it
shows that the page load has not shown before: a board left open all day writes one audit
event when it is opened and one each time a new patient appears on it, not 5,760 a day.

The token holds a random id and the user's own id, signed (SECRET_KEY, its own salt) and
dated: no patient information, and it works for nobody else. A token that is forged,
expired, another user's, or whose memory the cache has lost (a restart, eviction, another
worker's in-memory cache) starts a new page load: the poll then audits everything it shows
again. The memory can only forget, never invent: a poll is never left unaudited because of
it. (With REDIS_URL every worker shares the memory; without, each worker audits a page load
once.)
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.cache import cache

_SALT = "clinic.core.page_loads"
# The query string parameter that carries the token on a poll.
PAGE_LOAD_PARAMETER = "view"


def _cache_key(page_load_id: str) -> str:
    return f"page-load-audit:{page_load_id}"


def _lifetime_seconds() -> int:
    return settings.PAGE_LOAD_AUDIT_MEMORY_HOURS * 3600


@dataclass
class PageLoad:
    """One page load of one user: the patients it has shown (and audited) so far."""

    id: str
    user_id: int
    new: bool  # True for the full page (or a poll whose page load could not be resumed)
    shown: set[str] = field(default_factory=set)

    @property
    def token(self) -> str:
        return signing.dumps({"id": self.id, "u": self.user_id}, salt=_SALT, compress=False)

    def unseen(self, patient_keys: Iterable[str]) -> list[str]:
        """The keys (patient uuids) not yet shown by this page load, sorted."""
        return sorted(set(patient_keys) - self.shown)

    def needs_audit(self, patient_keys: Iterable[str]) -> bool:
        """A new page load is always audited; a poll only if it shows someone new."""
        return self.new or bool(self.unseen(patient_keys))

    def remember(self, patient_keys: Iterable[str]) -> None:
        """Record that these patients have been shown (and audited) in this page load."""
        keys = set(patient_keys)
        if keys <= self.shown and not self.new:
            return
        self.shown |= keys
        cache.set(_cache_key(self.id), sorted(self.shown), _lifetime_seconds())


def page_load_start(*, actor) -> PageLoad:
    return PageLoad(id=secrets.token_urlsafe(16), user_id=actor.pk, new=True)


def page_load_resume(*, actor, token: str | None) -> PageLoad:
    """The page load a poll belongs to, or a new one if the token does not resume one."""
    if not token:
        return page_load_start(actor=actor)
    try:
        value = signing.loads(token, salt=_SALT, max_age=_lifetime_seconds())
    except signing.BadSignature:
        return page_load_start(actor=actor)
    if not isinstance(value, dict) or value.get("u") != actor.pk or not value.get("id"):
        return page_load_start(actor=actor)
    shown = cache.get(_cache_key(str(value["id"])))
    if shown is None:
        # Forgotten (or never remembered): audit as a new page load, under the same id.
        return PageLoad(id=str(value["id"]), user_id=actor.pk, new=True)
    return PageLoad(id=str(value["id"]), user_id=actor.pk, new=False, shown=set(shown))


def page_load_for(request) -> PageLoad:
    """A background refresh resumes its page load; anything else starts one."""
    if getattr(request, "htmx", False):
        return page_load_resume(actor=request.user, token=request.GET.get(PAGE_LOAD_PARAMETER))
    return page_load_start(actor=request.user)
