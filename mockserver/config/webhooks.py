"""Account-level webhook endpoints, as the admin API, a scenario file and the pytest marker write them:
``{provider, key, url, secret?, events?}``. Checked against the provider's announcer; stored in ``engine.outbox``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..core.engine import Engine
from ..core.outbox import Endpoint, event_id
from ..providers.base import Provider
from .documents import Document, Key, mapping, string

ENDPOINT_KEYS = ("provider", "key", "url", "secret", "events")


@dataclass(frozen=True)
class EndpointSpec:
    provider: str
    key: str  # the API key (namespace) whose events it receives
    url: str
    secret: str | None = None
    events: tuple[str, ...] | None = None


def parse_endpoints(doc: Document, key: Key, items: Any) -> list[EndpointSpec]:
    if not isinstance(items, (list, tuple)):
        raise doc.error(key, "a list of webhook endpoints {provider, key, url, secret?, events?}", items)
    specs = []
    for index, item in enumerate(items):
        where = (*key, index)
        data = mapping(doc, where, item, ENDPOINT_KEYS)
        for required in ("provider", "key", "url"):
            if required not in data:
                raise doc.error(where, f"a '{required}'", data)
        events = data.get("events")
        if events is not None and (not isinstance(events, (list, tuple)) or not all(isinstance(e, str) for e in events)):
            raise doc.error((*where, "events"), "a list of event types", events)
        secret = data.get("secret")
        specs.append(EndpointSpec(
            string(doc, (*where, "provider"), data["provider"]), string(doc, (*where, "key"), data["key"]),
            string(doc, (*where, "url"), data["url"]), None if secret is None else string(doc, (*where, "secret"), secret),
            None if events is None else tuple(events),
        ))
    return specs


def check_endpoint(spec: EndpointSpec, providers: dict[str, Provider]) -> None:
    """ValueError, with what would work, if the endpoint cannot receive anything."""
    provider = providers.get(spec.provider)
    if provider is None:
        raise ValueError(f"no provider {spec.provider!r} (providers: {', '.join(providers)})")
    announcer = provider.webhooks
    if announcer is None:
        raise ValueError(f"{spec.provider} documents no webhooks; the mock announces none for it")
    if not announcer.account_endpoints:
        raise ValueError(f"{spec.provider} sends webhooks to the URL each batch is created with (its 'webhook' field), not to account endpoints")
    if not spec.key:
        raise ValueError("'key' must be the API key whose events the endpoint receives")
    parts = urlsplit(spec.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url must be an http(s) URL, got {spec.url!r}")
    known = getattr(announcer, "event_types", None)
    if spec.events is not None and known is not None:
        unknown = sorted(set(spec.events) - set(known))
        if unknown:
            raise ValueError(f"unknown event type {unknown[0]!r} for {spec.provider} (known: {', '.join(known)})")


def register(engine: Engine, providers: dict[str, Provider], spec: EndpointSpec) -> Endpoint:
    """Add the endpoint (checked first); its secret, when none is given, is derived from the seed and the
    endpoint (never drawn), in the provider's format."""
    check_endpoint(spec, providers)
    announcer = providers[spec.provider].webhooks
    count = len(engine.outbox.endpoints)
    endpoint_id = event_id("we_", engine.settings.seed, spec.provider, spec.key, spec.url, count)
    secret = spec.secret or announcer.new_secret(f"{engine.settings.seed}:{endpoint_id}".encode())
    return engine.outbox.add_endpoint(Endpoint(endpoint_id, spec.provider, spec.key, spec.url, secret, spec.events, engine.now()))


__all__ = ["ENDPOINT_KEYS", "EndpointSpec", "check_endpoint", "parse_endpoints", "register"]
