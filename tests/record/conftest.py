"""The upstream of the recording tests: the session's strict live fake, emptied, with its clock frozen."""

from __future__ import annotations

import pytest

from mockserver.server.live import LiveServer


@pytest.fixture
def upstream(frozen_server: LiveServer) -> LiveServer:
    """The upstream: the session's strict live fake, emptied, with its clock frozen."""
    return frozen_server
