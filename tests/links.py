"""Links a page offers, for tests that no link ends in a refusal (issue 11: "links that end in
403 are not shown")."""

from __future__ import annotations

from html.parser import HTMLParser

# Not pages: the sign-out form's target, files, the API's interactive documents.
_SKIP_PREFIXES = ("/static/", "/accounts/logout/", "/api/", "/favicon.ico")


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.startswith("/") and not href.startswith("//"):
            self.hrefs.append(href.split("#", 1)[0])


def page_links(html: str) -> list[str]:
    """The site's own pages a page links to, each once, in order."""
    parser = _Anchors()
    parser.feed(html)
    seen: dict[str, None] = {}
    for href in parser.hrefs:
        if href and not href.startswith(_SKIP_PREFIXES):
            seen.setdefault(href, None)
    return list(seen)


def refused_links(client, html: str, *, skip: tuple[str, ...] = ()) -> dict[str, int]:
    """Every link on the page that answers the signed-in client with a refusal or an error
    (403, 404, 405, 500): none should be offered. `skip` names path prefixes a test leaves out
    (saying why)."""
    refused = {}
    for href in page_links(html):
        if href.startswith(skip):
            continue
        status = client.get(href).status_code
        if status in (403, 404, 405) or status >= 500:
            refused[href] = status
    return refused
