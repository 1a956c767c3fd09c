"""``mockserver record``: a proxy that turns real provider traffic into a cassette, fixtures and a drift report (issue 22).

A front door (like ``contract/``): ``proxy.py`` is the ASGI app that forwards and records (``GET /_record`` on
it: what it has recorded so far), ``book.py`` the fixtures file and the drift report; the cassette's format and its redaction live in ``server/cassette.py``,
which ``mockserver serve --replay`` (``server/replay.py``) reads.
"""

from __future__ import annotations

from .book import Book
from .proxy import RecordingProxy

__all__ = ["Book", "RecordingProxy"]
