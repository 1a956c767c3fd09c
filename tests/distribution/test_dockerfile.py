"""The Dockerfile cannot rot silently: its shape is what the README promises, and its build, start and health-check
commands work (run outside Docker by the ``image_install`` fixture; the image itself is not built here: no daemon)."""

from __future__ import annotations

import re
from typing import Any

import httpx


def test_the_image_is_slim_python_unprivileged_and_documented(image: Any) -> None:
    assert all(re.fullmatch(r"python:3\.1[1-3]-slim( AS \w+)?", base) for base in image.args("FROM")), image.args("FROM")
    users = image.args("USER", final_only=True)
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    assert image.args("EXPOSE") == ["8080"]
    assert len(image.args("HEALTHCHECK")) == 1 and "/_mock/health" in image.args("HEALTHCHECK")[0]
    assert image.cmd == ["mockserver", "serve", "--host", "0.0.0.0"]
    assert "MOCKSERVER_PORT=8080" in " ".join(image.args("ENV", final_only=True))


def test_the_image_commands_install_start_and_pass_the_health_check(image: Any, image_install: Any) -> None:
    # the image's default command, on loopback instead of 0.0.0.0 (the tests never listen beyond 127.0.0.1)
    argv = ["127.0.0.1" if a == "0.0.0.0" else a for a in image.cmd]
    # settings by environment variables, as `docker run -e ...` sets them
    with image_install.serving(argv, extra_env={"MOCKSERVER_API_KEY": "sk-image", "MOCKSERVER_SEED": "3"}) as url:
        port = url.rsplit(":", 1)[1]
        done = image_install.run(*image.healthcheck, env_extra={"MOCKSERVER_PORT": port})
        assert done.returncode == 0, done.stderr
        assert httpx.get(url + "/anyapi/v1/batches", headers={"Authorization": "Bearer sk-image"}).status_code == 200
        assert httpx.get(url + "/anyapi/v1/batches", headers={"Authorization": "Bearer other"}).status_code == 401
    # the same check fails once nothing answers
    assert image_install.run(*image.healthcheck, env_extra={"MOCKSERVER_PORT": port}).returncode != 0
