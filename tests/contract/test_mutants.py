from __future__ import annotations

import json

import pytest
import requests

from mockserver.contract.mutants import CATALOGUE, check_mutant, expected_labels, mutant_server, score, score_text
from mockserver.contract.profiles import PROFILES, get_profile
from mockserver.contract.runner import Options

KEY = "sk-mutant-tests-42"


def test_the_catalogue() -> None:
    names = [m.name for m in CATALOGUE]
    assert len(names) == len(set(names)) >= 12
    for provider in PROFILES:  # every fault that applies to a provider knows what should catch it there
        for mutant in CATALOGUE:
            if mutant.applies(get_profile(provider)):
                assert expected_labels(get_profile(provider), mutant), (provider, mutant.name)


def test_a_fault_changes_only_its_provider() -> None:
    mutant = next(m for m in CATALOGUE if m.name == "undocumented_status")
    with mutant_server("anyapi", KEY, mutant) as url:
        assert requests.get(url + "/batches", headers={"Authorization": f"Bearer {KEY}"}).status_code == 206
        root = url.rsplit("/anyapi/v1", 1)[0]
        assert requests.get(root + "/_mock/clock").status_code == 200


def test_object_faults_rewrite_the_resource() -> None:
    mutant = next(m for m in CATALOGUE if m.name == "wrong_type")
    with mutant_server("anyapi", KEY, mutant) as url:
        headers = {"Authorization": f"Bearer {KEY}"}
        file_id = requests.post(url + "/files", headers=headers, files={"file": ("a.jsonl", b"{}\n")}, data={"purpose": "batch"}).json()["id"]
        body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        created = requests.post(url + "/batches", headers=headers, json=body).json()
        assert isinstance(created["created_at"], str)


def test_request_faults_rewrite_what_the_fake_receives() -> None:
    mutant = next(m for m in CATALOGUE if m.name == "wrong_key_accepted")
    with mutant_server("retell", KEY, mutant) as url:
        response = requests.get(url + "/v2/list-batch-tests", params={"type": "retell-llm", "llm_id": "x"},
                                headers={"Authorization": "Bearer sk-anything"})
    assert response.status_code == 200


@pytest.mark.parametrize(("provider", "name"), [("portkey", "created_not_found"), ("retell", "decreasing_counter"),
                                                ("formant", "terminal_not_terminal"), ("phaseo", "wrong_key_accepted")])
def test_faults_are_caught_on_every_kind_of_provider(provider: str, name: str) -> None:
    mutant = next(m for m in CATALOGUE if m.name == name)
    report, expected = check_mutant(provider, mutant, Options(max_examples=3, phases=("fuzzing",), poll_timeout=5, poll_interval=0.05, shrink=False))
    assert report.exit_code == 1 and expected & report.failing(), report.summary()


def test_score_text_reports_caught_and_planted() -> None:
    picked = tuple(m for m in CATALOGUE if m.name in ("has_more_lies", "server_error"))
    clean, verdicts = score("anyapi", picked, Options(max_examples=5, phases=("coverage", "fuzzing"), poll_timeout=3, poll_interval=0.05, shrink=False))
    text = score_text("anyapi", clean, verdicts)
    assert "2 / 2 planted faults caught" in text and "pagination_consistent on GET /batches" in text
    assert json.dumps([v.caught for v in verdicts]) == "[true, true]"
