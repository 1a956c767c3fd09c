"""The one Redactor of everything a recording writes: credentials out, ordinary words left alone."""

from __future__ import annotations

from mockserver.server.cassette import REDACTED, Redactor, match_key
from mockserver.spec.loader import load_spec


def test_credentials_are_redacted_and_scrubbed_later_but_scheme_words_and_routing_headers_are_not() -> None:
    redactor = Redactor.for_spec(load_spec("portkey"), ("x-portkey-",))
    headers = redactor.redact_headers([("Authorization", "Bearer sk-credential-123"), ("x-portkey-api-key", "pk-credential-456"),
                                       ("x-portkey-provider", "openai"), ("Content-Type", "application/json")])
    assert headers == [["Authorization", REDACTED], ["x-portkey-api-key", REDACTED], ["x-portkey-provider", REDACTED],
                       ["Content-Type", "application/json"]]
    echoed = b'{"note": "openai said Bearer sk-credential-123 is bad; key pk-credential-456"}'
    assert redactor.scrub(echoed) == b'{"note": "openai said [REDACTED] is bad; key [REDACTED]"}'
    assert redactor.scrub(b"Pass it as 'Authorization: Bearer <key>'") == b"Pass it as 'Authorization: Bearer <key>'"
    assert redactor.scrub(b"sk-credential-123") == REDACTED.encode()  # the credentials alone, too


def test_a_secret_body_field_is_redacted_and_matches_whatever_secret_it_had() -> None:
    redactor = Redactor.for_spec(load_spec("phaseo"))
    body = b'{"webhook": {"url": "http://x", "secret": "whsec_first-secret"}, "endpoint": "/v1/chat/completions"}'
    written = redactor.redact_body(body, "application/json")
    assert b"whsec_first-secret" not in written and REDACTED.encode() in written
    other = body.replace(b"first", b"other")
    key = match_key("POST", "/phaseo/v1/batches", "", written, "application/json", Redactor.for_spec(load_spec("phaseo")))
    assert key == match_key("POST", "/phaseo/v1/batches", "", other, "application/json", Redactor.for_spec(load_spec("phaseo")))
    assert key != match_key("POST", "/phaseo/v1/batches", "", body.replace(b"/v1/chat", b"/v1/x"), "application/json", redactor)


def test_a_multipart_body_matches_whatever_its_boundary() -> None:
    def form(boundary: str) -> bytes:
        return (f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--{boundary}--\r\n').encode()

    redactor = Redactor()
    first = match_key("POST", "/f", "", form("aaa111"), "multipart/form-data; boundary=aaa111", redactor)
    assert first == match_key("POST", "/f", "", form("bbb222"), "multipart/form-data; boundary=bbb222", redactor)
    assert first != match_key("POST", "/f", "", form("bbb222").replace(b"batch", b"other"), "multipart/form-data; boundary=bbb222", redactor)
