"""The command line: flags only; everything else is create_app and the libraries behind it."""

from __future__ import annotations

import argparse
import json
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


# -- state and workers (issue 11): --state PATH|postgresql://..., MOCKSERVER_STATE, --workers N ----------------
_WORKER_ARGS = "MOCKSERVER_WORKER_ARGS"  # how `serve --workers N` hands its flags to the worker processes


def _state_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", default=os.environ.get("MOCKSERVER_STATE") or None, metavar="PATH|URL",
                   help="keep state in a SQLite file (created if missing) or a postgresql:// database; default: in memory "
                        "(also MOCKSERVER_STATE)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (needs --state: they share it)")


def _app(args: argparse.Namespace) -> object:
    from .config.baseline import Baseline
    from .core.state import StateError
    from .server.app import create_app

    settings = _settings(args)
    if args.state:
        settings = settings.replace(state=args.state)
    try:
        app = create_app(settings)
        Baseline.load(args.scenarios, args.fixtures).install(app.state.engine, app.state.providers)
    except StateError as exc:
        raise ConfigError(str(exc)) from exc
    return app


def worker_app() -> object:
    """The app of one worker of ``serve --workers N`` (uvicorn imports this in every worker process)."""
    return _app(build_parser().parse_args(json.loads(os.environ[_WORKER_ARGS])))


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    if args.workers > 1 and not args.state:
        raise ConfigError(
            f"--workers {args.workers} needs a shared state: in memory every worker would keep its own, and a client "
            "would see objects vanish between calls. Add --state ./state.db (SQLite) or --state postgresql://..."
        )
    app = _app(args)  # also checks the flags and the state before any worker starts
    base = f"http://{args.host}:{args.port}"
    print(f"mockserver: serving on {base}", flush=True)
    for name, provider in app.state.providers.items():  # type: ignore[attr-defined]
        print(f"  {name:8s} {base}{provider.prefix}", flush=True)
    print(f"  admin    {base}/_mock", flush=True)
    store = app.state.engine.store  # type: ignore[attr-defined]
    print(f"  state    {store.target if store.durable else 'in memory (lost when the server stops)'}", flush=True)
    from .server.serving import exposure_warning, prefer_the_event_loop, uvicorn_options

    prefer_the_event_loop()
    warning = exposure_warning(app.state.engine.settings, args.host)  # type: ignore[attr-defined]
    if warning:
        print(warning, file=sys.stderr, flush=True)
    options = {"access_log": getattr(args, "access_log", False), **uvicorn_options(app.state.engine.settings)}  # type: ignore[attr-defined]
    if args.workers == 1:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, **options)  # type: ignore[arg-type]
        return 0
    print(f"  workers  {args.workers}", flush=True)
    os.environ[_WORKER_ARGS] = json.dumps(args.argv)
    _run_workers(args, options)
    return 0


def _run_workers(args: argparse.Namespace, options: dict[str, object]) -> None:
    """uvicorn's supervisor, on a listening socket that says it is TCP: asyncio sets TCP_NODELAY only on such
    sockets, and the one uvicorn binds for workers does not, which adds ~40 ms (delayed ACK) to every answer."""
    import inspect
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "mockserver.cli:worker_app", factory=True, workers=args.workers, host=args.host, port=args.port, log_level=args.log_level,
        **options,  # type: ignore[arg-type]
    )
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn < 0.31
        Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]).run()  # type: ignore[call-arg]
    else:
        Multiprocess(config, sockets=[sock]).run()


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
    _state_flags(p)
    p.set_defaults(func=serve)

    from .contract.cli import register

    register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
