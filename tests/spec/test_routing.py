from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.core.errors import MethodNotAllowed, NotFound
from mockserver.spec.loader import Spec
from mockserver.spec.routing import OperationRouter


def _spec(paths: dict[str, list[str]]) -> Spec:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            path: {m: {"operationId": f"{m}{i}{j}", "responses": {"200": {"description": "ok"}}} for j, m in enumerate(methods)}
            for i, (path, methods) in enumerate(paths.items())
        },
    }
    return Spec("t", Path("t.yaml"), doc)


def test_static_segments_beat_parameters_and_params_are_extracted() -> None:
    router = OperationRouter(_spec({"/batches/{batch_id}": ["get"], "/batches/special": ["get"], "/batches/{batch_id}/cancel": ["post"]}).operations)
    op, params = router.match("GET", "/batches/special")
    assert op.path == "/batches/special" and params == {}
    op, params = router.match("GET", "/batches/b_1")
    assert op.path == "/batches/{batch_id}" and params == {"batch_id": "b_1"}
    op, params = router.match("POST", "/batches/b_1/cancel")
    assert params == {"batch_id": "b_1"}


def test_wrong_method_is_405_with_allow_and_unknown_path_is_404() -> None:
    router = OperationRouter(_spec({"/files": ["get", "post"]}).operations)
    with pytest.raises(MethodNotAllowed) as info:
        router.match("DELETE", "/files")
    assert info.value.headers["Allow"] == "GET, POST"
    with pytest.raises(NotFound):
        router.match("GET", "/nothing")
    assert router.match("HEAD", "/files")[0].method == "GET"
