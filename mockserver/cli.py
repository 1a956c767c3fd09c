"""The command line: flags only; everything else is create_app and the libraries behind it."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from .config.settings import load_settings, validate_settings
from .core.settings import ConfigError, Settings


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config) if args.config else Settings()
    changes: dict[str, object] = {}
    if args.api_key:
        from .config.settings import PROVIDER_NAMES

        changes["api_keys"] = {name: tuple(args.api_key) for name in PROVIDER_NAMES}
    for flag, field in (("seed", "seed"), ("clock_speed", "clock_speed"), ("phaseo_mode", "phaseo_mode"), ("phaseo_status", "phaseo_status"),
                        ("formant_success_rate", "formant_success_rate"), ("response_validation", "response_validation")):
        value = getattr(args, flag, None)
        if value is not None:
            changes[field] = value
    settings = _hardening(args, settings.replace(**changes))
    validate_settings(settings, "command line")
    return settings


# --- hardening flags (issue 12): admin token, body limit, timeouts ---------------------------------------------
def _add_hardening_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--admin-token", metavar="TOKEN", help="every /_mock request but /_mock/health needs 'Authorization: Bearer TOKEN' (default: $MOCKSERVER_ADMIN_TOKEN)")
    p.add_argument("--max-body-bytes", type=int, metavar="N", help="largest JSON request body (default 4 MiB)")
    p.add_argument("--header-timeout", type=float, metavar="S", help="seconds a client has to send its request headers (default 10)")
    p.add_argument("--body-timeout", type=float, metavar="S", help="longest pause in a request body before a 408 (default 30)")
    p.add_argument("--keep-alive", type=float, metavar="S", help="idle keep-alive connections are closed after S seconds (default 5)")
    p.add_argument("--shutdown-grace", type=float, metavar="S", help="on SIGTERM, in-flight requests get S seconds, then are cut (default 10)")


def _hardening(args: argparse.Namespace, settings: Settings) -> Settings:
    token = getattr(args, "admin_token", None) or os.environ.get("MOCKSERVER_ADMIN_TOKEN") or settings.admin_token
    timeouts = {name: getattr(args, flag, None) for flag, name in (
        ("header_timeout", "header_read"), ("body_timeout", "body_read"), ("keep_alive", "keep_alive"), ("shutdown_grace", "graceful_shutdown"))}
    timeouts = {name: value for name, value in timeouts.items() if value is not None}
    limits = settings.limits if getattr(args, "max_body_bytes", None) is None else settings.limits.replace(max_json_body_bytes=args.max_body_bytes)
    return settings.replace(admin_token=token or None, timeouts=settings.timeouts.replace(**timeouts), limits=limits)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .server.app import create_app
    from .config.baseline import Baseline

    app = create_app(_settings(args))
    Baseline.load(args.scenarios, args.fixtures).install(app.state.engine, app.state.providers)
    base = f"http://{args.host}:{args.port}"
    print(f"mockserver: serving on {base}", flush=True)
    for name, provider in app.state.providers.items():
        print(f"  {name:8s} {base}{provider.prefix}", flush=True)
    print(f"  admin    {base}/_mock", flush=True)
    from .server.serving import exposure_warning, prefer_the_event_loop, uvicorn_options

    prefer_the_event_loop()
    warning = exposure_warning(app.state.engine.settings, args.host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=getattr(args, "access_log", False), **uvicorn_options(app.state.engine.settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description="Stateful mock server and contract-test kit for batch APIs.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve every provider on one port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--config", help="a YAML settings file (see README: Configuration)")
    p.add_argument("--api-key", action="append", default=[], metavar="KEY", help="accept only this key (repeatable); default: any non-empty key")
    p.add_argument("--seed", type=int, help="seed for ids and simulated outcomes (default 0)")
    p.add_argument("--clock-speed", type=float, help="simulated seconds per real second (default 1; 0 freezes the clock)")
    p.add_argument("--phaseo-mode", choices=["working", "not_implemented"], help="Phaseo answers normally, or 501 as its docs say today")
    p.add_argument("--phaseo-status", choices=["documented", "upstream"], help="Phaseo batch status words: its docs' (default) or the OpenAI upstream's")
    p.add_argument(
        "--formant-success-rate", choices=["percent_of_recipients", "fraction_of_processed"],
        help="FormantAI metrics success_rate: percent of recipients (default, the guide's) or fraction of processed calls (the seed's scale)",
    )
    p.add_argument("--response-validation", choices=["off", "warn", "strict"], help="check every response against its spec (default warn)")
    p.add_argument("--scenarios", action="append", default=[], metavar="FILE", help="a scenario file: scenarios, the default scenario, faults (repeatable)")
    p.add_argument("--fixtures", action="append", default=[], metavar="FILE", help="a fixture file, preloaded at start and on reset (repeatable)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    _add_hardening_flags(p)
    p.set_defaults(func=serve)

    from .contract.cli import register

    register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
