"""Findings that reproduce: every step that led to a failure, as data, as a runnable script, and replayed.

A finding of the kit's own calls carries the steps of its flow (upload, create, reads, cancel, downloads):
``script()`` renders them as a Python (httpx) script whose credentials are environment-variable placeholders
and whose ids are taken from the answers, as the original run took them; ``replay()`` sends them again to any
base URL through the kit, so the same checks judge the new answers (``mockserver contract --replay FILE``).
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from .invariants import Step

if TYPE_CHECKING:
    from .profiles import Profile
    from .report import Report

ID_KEY = re.compile(r"(^|_)id$")
MAX_STEPS = 60  # a finding keeps at most this many steps (the first and the latest)


# -- steps as data ------------------------------------------------------------------------------------


def step_dict(step: Step) -> dict[str, Any]:
    data: dict[str, Any] = {
        "operation_id": step.operation_id, "label": step.label, "method": step.method, "path": step.path,
        "path_params": step.path_params, "status": step.status, "at": round(step.at, 3),
    }
    if step.query:
        data["query"] = step.query
    if step.json_body is not None:
        data["json"] = step.json_body
    if step.files:
        data["files"] = {k: [name, base64.b64encode(content).decode(), media] for k, (name, content, media) in step.files.items()}
    if step.data:
        data["data"] = step.data
    if step.body is not None:
        data["body"] = step.body
    elif step.text:
        data["text"] = step.text[:20_000]
    return data


def steps_of(story: list[Step]) -> list[dict[str, Any]]:
    kept = story if len(story) <= MAX_STEPS else story[:10] + story[-(MAX_STEPS - 10):]
    return [step_dict(s) for s in kept]


def _files(data: dict[str, Any]) -> dict[str, tuple[str, bytes, str]] | None:
    files = data.get("files")
    if not files:
        return None
    return {k: (name, base64.b64decode(content), media) for k, (name, content, media) in files.items()}


def ids_in(body: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """(path, value) of every id-like field of an answer (``id``, ``*_id``), first list items included."""
    out: list[tuple[tuple[Any, ...], Any]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if ID_KEY.search(str(key)) and isinstance(value, (str, int)) and not isinstance(value, bool) and value not in ("", 0):
                out.append(((*path, key), value))
            elif isinstance(value, (dict, list)):
                out += ids_in(value, (*path, key))
    elif isinstance(body, list):
        for index, item in enumerate(body[:20]):
            out += ids_in(item, (*path, index))
    return out


def _at(body: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(body, dict):
            body = body.get(part)
        elif isinstance(body, list) and isinstance(part, int) and part < len(body):
            body = body[part]
        else:
            return None
    return body


def substitute(value: Any, mapping: dict[Any, Any]) -> Any:
    if isinstance(value, dict):
        return {k: substitute(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, mapping) for v in value]
    if isinstance(value, (str, int)) and not isinstance(value, bool) and value in mapping:
        new = mapping[value]
        return str(new) if isinstance(value, str) else new
    return value


# -- the script ---------------------------------------------------------------------------------------


class _Var:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _py(value: Any, names: dict[Any, str]) -> str:
    def wrap(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: wrap(x) for k, x in v.items()}
        if isinstance(v, list):
            return [wrap(x) for x in v]
        if isinstance(v, (str, int)) and not isinstance(v, bool) and v in names:
            return _Var(names[v] if isinstance(v, int) else names[v])
        return v
    return repr(wrap(value))


def _auth_lines(profile: Profile) -> list[str]:
    marker = "\x00KEY\x00"
    headers = []
    for name, value in profile.auth(marker).items():
        before, _, after = value.partition(marker)
        env = profile.key_env[0]
        headers.append(f"    {name!r}: {before!r} + os.environ[{env!r}]" + (f" + {after!r}" if after else "") + ",")
    for name, (var, default) in profile.extra_headers.items():
        headers.append(f"    {name!r}: os.environ.get({var!r}, {default!r}),")
    return headers


def script(profile: Profile, base_url: str, steps: list[dict[str, Any]], title: str = "", finding: str | None = None) -> str:
    """A runnable Python script that sends ``steps`` again, ids taken from the answers as the run took them.

    With ``finding`` (the saved finding's file name, next to the script) it then judges the answers it got with the
    kit's checks and exits 1 while the bug is still there (0 once it is gone, 2 without the kit installed)."""
    used: set[Any] = set()
    for data in steps:
        for part in ("path_params", "query", "json", "data"):
            _collect(data.get(part), used)
    names: dict[Any, str] = {}
    counts: dict[str, int] = {}
    lines = [
        "# Reproduces a finding of `mockserver contract`" + (f": {title}" if title else ""),
        f"# usage: {profile.key_env[0]}=... python this_file.py [BASE_URL]",
        "import os, sys, time",
        "import httpx",
        "",
        f"BASE_URL = sys.argv[1] if len(sys.argv) > 1 else {base_url!r}",
        "HEADERS = {",
        *_auth_lines(profile),
        "}",
        "client = httpx.Client(base_url=BASE_URL.rstrip('/'), headers=HEADERS, timeout=30)",
        "",
        "",
        "ANSWERS = []  # what the server answered, in order: judged by the kit's checks at the end",
        "",
        "",
        "def show(number, response):",
        "    print(number, response.request.method, response.request.url, '->', response.status_code, response.text[:300])",
        "    ANSWERS.append((response.status_code, dict(response.headers), response.content))",
        "    return response",
        "",
    ]
    previous_at = None
    rendered: list[tuple[str, list[str], float]] = []
    for _number, data in enumerate(steps, 1):
        path = data["path"]
        for key, value in data.get("path_params", {}).items():
            path = path.replace("{" + key + "}", "{" + (names[value] if value in names else repr(value)[1:-1]) + "}" if value in names else str(value))
        url = f"f{path!r}" if any(v in names for v in data.get("path_params", {}).values()) else repr(path)
        args = [url]
        if data.get("query"):
            args.append(f"params={_py(data['query'], names)}")
        if "json" in data:
            args.append(f"json={_py(data['json'], names)}")
        if data.get("files"):
            files = {k: (n, base64.b64decode(c), m) for k, (n, c, m) in data["files"].items()}
            args.append(f"files={files!r}")
        if data.get("data"):
            args.append(f"data={_py(data['data'], names)}")
        call = f"client.request({data['method']!r}, {', '.join(args)})"
        extract = []
        for where, value in ids_in(data.get("body")):
            if value in used and value not in names:
                stem = str(where[-1])[:-3].rstrip("_") or data["operation_id"].removeprefix("create").removeprefix("retrieve").lower() or "id"
                stem = re.sub(r"\W", "_", stem) or "id"
                counts[stem] = counts.get(stem, 0) + 1
                names[value] = f"{stem}_{counts[stem]}"
                extract.append(f"{names[value]} = r.json()" + "".join(f"[{p!r}]" for p in where))
        gap = 0.0 if previous_at is None else max(0.0, float(data.get("at", 0)) - previous_at)
        previous_at = float(data.get("at", 0))
        rendered.append((call, extract, gap))
    # consecutive identical requests (polling) become one loop
    index = 0
    number = 1
    while index < len(rendered):
        call, extract, gap = rendered[index]
        run = 1
        while index + run < len(rendered) and rendered[index + run][0] == call and not rendered[index + run][1] and not extract:
            run += 1
        if run > 1:
            pause = max(g for _, _, g in rendered[index + 1: index + run])
            lines.append(f"for _ in range({run}):  # polling, as the run did")
            lines.append(f"    r = show({number}, {call})")
            if pause > 0.01:
                lines.append(f"    time.sleep({pause:.2f})")
        else:
            if gap > 0.01:
                lines.append(f"time.sleep({gap:.2f})")
            lines.append(f"r = show({number}, {call})")
            lines += extract
        index += run
        number += run
    if finding is not None:
        lines += [
            "",
            "# the verdict: the same checks as the run that found it, over these answers (exit 1 while the bug is there)",
            "try:",
            "    from mockserver.contract.reproduce import judge",
            "except ImportError:",
            "    sys.exit('install batchfake to judge the answers (pip install batchfake)')",
            f"sys.exit(judge(os.path.join(os.path.dirname(os.path.abspath(__file__)), {finding!r}), BASE_URL, ANSWERS))",
        ]
    return "\n".join(lines) + "\n"


def _collect(value: Any, out: set[Any]) -> None:
    if isinstance(value, dict):
        for v in value.values():
            _collect(v, out)
    elif isinstance(value, list):
        for v in value:
            _collect(v, out)
    elif isinstance(value, (str, int)) and not isinstance(value, bool) and value not in ("", 0):
        out.add(value)


# -- saving and replaying -----------------------------------------------------------------------------


def save_findings(report: Report, directory: Path, profile: Profile) -> list[Path]:
    """One ``finding-N.json`` (replayable) and ``finding-N.py`` (runnable) per failure that has steps."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    number = 0
    for outcome in report.failures:
        for finding in outcome.findings:
            if not finding.steps:
                continue
            number += 1
            data = report.sanitize({
                "provider": report.provider, "target": report.target, "operation": finding.operation, "check": finding.check,
                "title": finding.title, "message": finding.message, "phase": finding.phase, "steps": finding.steps,
            })
            path = directory / f"finding-{number:02d}.json"
            path.write_text(json.dumps(data, indent=2) + "\n")
            (directory / f"finding-{number:02d}.py").write_text(report.sanitize(script(profile, report.target, data["steps"], finding.title,
                                                                                    finding=path.name)))
            written.append(path)
    return written


def load_findings(path: Path) -> list[dict[str, Any]]:
    """A saved finding, or every finding with steps of a ``--json`` report."""
    data = json.loads(Path(path).read_text())
    if isinstance(data, dict) and "steps" in data:
        return [data]
    reports = data if isinstance(data, list) else [data]
    out = []
    for report in reports:
        for result in report.get("results", []):
            for failure in result.get("failures", []):
                if failure.get("steps"):
                    out.append({"provider": report["provider"], "operation": result["operation"], "check": result["check"],
                                "title": failure["title"], "steps": failure["steps"]})
    return out


REWALKED = ("pagination_consistent", "sort_order")


def replayed(profile: Profile, finding: dict[str, Any]) -> list[int]:
    """Which of a finding's steps a replay sends again: all, or for a probe's finding only the accepted creates (the
    data it stood on); the probe itself then runs afresh (its old steps would change what it sees)."""
    from .truth import PROBES

    steps = finding.get("steps", [])
    if finding.get("check") not in PROBES and finding.get("check") not in REWALKED:
        return list(range(len(steps)))
    creates = {v.operation_id for r in profile.resources for v in r.views if v.creates}
    return [i for i, s in enumerate(steps) if s.get("operation_id") in creates and 200 <= int(s.get("status", 0)) < 300]


def replay_finding(api: Any, finding: dict[str, Any], timeout: float = 10.0, interval: float = 0.05) -> None:
    """The finding's steps, then the probe or list walk that made it (its verdict is not a single answer's)."""
    from .semantics import check_pagination
    from .truth import PROBES

    check = finding.get("check")
    steps = finding.get("steps", [])
    last = replay_steps(api, [steps[i] for i in replayed(api.profile, finding)], timeout=timeout, interval=interval)
    if check in ACCEPTANCE and last is not None and steps:
        _judge_acceptance(api, str(check), steps[-1], last)
    elif check in PROBES:
        PROBES[check](api, finding)
    elif check in REWALKED:
        for pagination in api.profile.pagination:
            if api.label(pagination.operation_id) == finding.get("operation"):
                check_pagination(api, pagination)


# schemathesis' checks whose verdict is about what the request was (invalid, valid, unauthenticated), not the answer alone
ACCEPTANCE = ("negative_data_rejection", "positive_data_acceptance", "ignored_auth")


def _judge_acceptance(api: Any, check: str, data: dict[str, Any], last: Any) -> None:
    """The replayed generated request judged as schemathesis judged it: invalid refused, valid accepted, no key refused."""
    from .report import Finding

    problem = ""
    if check == "negative_data_rejection" and last.ok():
        problem = f"{last.label} accepted ({last.status}) a request that breaks the schema"
    elif check == "positive_data_acceptance" and not last.ok():
        allowed = api.profile.refusals.get(data["operation_id"], ((), ""))[0]
        if last.status not in allowed:
            problem = f"{last.label} refused ({last.status}) a request that matches the schema"
    elif check == "ignored_auth":
        for key, what in (("", "without credentials"), ("sk-mockserver-wrong-key-000000", "with a wrong key")):
            other = api.call(data["operation_id"], path=data.get("path_params") or {}, query=data.get("query"), key=key, check=False)
            if other.status not in (401, 403):
                problem = f"{last.label} {what} answered {other.status}, not 401"
                break
    if problem:
        api.report.fail(Finding(operation=last.label, check=check, title=problem, message=problem, example=last.example,
                                phase=api.phase, steps=steps_of(api.story)))
    else:
        api.report.passed(last.label, check)


def replay_steps(api: Any, steps: list[dict[str, Any]], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Send ``steps`` through ``api`` (so every check judges the answers), ids mapped to the new ones.

    A read whose recorded answer showed a resource in some status is repeated until the resource is in that
    status again (or ``timeout``), so a lifecycle that runs at another pace still reaches the same point.
    Returns the last answer (None without steps)."""
    exchange = None
    mapping: dict[Any, Any] = {}
    numbers: dict[Any, Any] = {}  # integer ids of the resources (and their text form, as in a path)
    id_fields = {r.id_field for r in api.profile.resources if r.id_field}
    resources = {view.operation_id: (resource, view) for resource in api.profile.resources for view in resource.views
                 if resource.retrieve and view.operation_id == resource.retrieve[0]}
    for data in steps:
        # an integer id is remapped only where it names the resource (a path parameter): in a body or a query, a
        # small number is as likely a count or another object's id (an agent)
        kwargs: dict[str, Any] = {"path": substitute(data.get("path_params") or {}, {**mapping, **numbers}),
                                  "query": substitute(data.get("query"), mapping)}
        if "json" in data:
            kwargs["json_body"] = substitute(data["json"], mapping)
        if data.get("files"):
            kwargs["files"] = _files(data)
            kwargs["data"] = substitute(data.get("data") or {}, mapping)
        wanted = _status(resources, data["operation_id"], data.get("body"))
        exchange = api.call(data["operation_id"], **kwargs)
        deadline = time.monotonic() + timeout
        while _behind(resources, data["operation_id"], exchange.body, wanted) and time.monotonic() < deadline:
            time.sleep(interval)
            exchange = api.call(data["operation_id"], **kwargs)
        for where, value in ids_in(data.get("body")):
            new = _at(exchange.body, where)
            if new is None:
                continue
            if isinstance(value, int):
                if where[-1] in id_fields and value not in numbers:
                    numbers[value] = new
                    numbers[str(value)] = str(new)
            elif value not in mapping:
                mapping[value] = new
    return exchange


def _status(resources: dict[str, Any], operation_id: str, body: Any) -> Any:
    found = resources.get(operation_id)
    if found is None or not isinstance(body, dict):
        return None
    resource, view = found
    node: Any = body
    for part in view.envelope:
        node = node.get(part) if isinstance(node, dict) else None
    return node.get(resource.status) if isinstance(node, dict) and resource.status else None


def _behind(resources: dict[str, Any], operation_id: str, body: Any, wanted: Any) -> bool:
    """Whether the resource has not yet reached the status the recorded answer showed (and still can)."""
    if wanted is None:
        return False
    now = _status(resources, operation_id, body)
    resource, _ = resources[operation_id]
    lifecycle = resource.lifecycle
    if now is None or now == wanted or lifecycle is None or now not in lifecycle.states:
        return False
    if wanted not in lifecycle.states:
        # the recorded status is outside the lifecycle (the bug itself, reached after a transition): wait while
        # the resource still moves
        return now not in lifecycle.terminal
    return now not in lifecycle.terminal and lifecycle.reachable(now, wanted)


# -- judging a script's answers -------------------------------------------------------------------------


class Recorded(requests.Session):
    """A session that answers from a script's recorded answers, in order, then sends for real (a probe run again)."""

    def __init__(self, answers: tuple[tuple[int, dict[str, str], bytes], ...]) -> None:
        super().__init__()
        self.answers = list(answers)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if not self.answers:
            return super().request(method, url, *args, **kwargs)
        status, headers, content = self.answers.pop(0)
        response = requests.Response()
        response.status_code = status
        response._content = content
        response.headers = CaseInsensitiveDict(headers)
        # schemathesis reads the headers from the raw (urllib3) answer
        response.raw = urllib3.HTTPResponse(body=io.BytesIO(content), headers=urllib3.HTTPHeaderDict(headers), status=status,
                                            preload_content=False, version=11)
        response.url = str(url)
        response.encoding = "utf-8"
        response.elapsed = datetime.timedelta(0)
        response.request = requests.Request(str(method), str(url), headers=kwargs.get("headers")).prepare()
        return response


def judge(finding_path: str | Path, base_url: str, answers: list[tuple[int, dict[str, str], bytes]]) -> int:
    """The exit code of a generated script: its answers through the kit's checks (``--replay`` without resending)."""
    from .profiles import get_profile
    from .runner import Options, run_contract

    finding = load_findings(Path(finding_path))[0]
    provider = str(finding.get("provider"))
    # the answers to the steps a replay sends (the others were the script's own, for the reader)
    kept = replayed(get_profile(provider), finding)
    report = run_contract(provider, base_url=base_url, allow_writes=True,
                          options=Options(phases=(), replay=(finding,), answers=tuple(answers[i] for i in kept if i < len(answers))))
    print(report.summary())
    return report.exit_code
