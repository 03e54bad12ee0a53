"""The checks sit next to their assets: in the loaded definitions and in the running webserver's GraphQL API
(what the UI renders)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from retail_platform.definitions import defs

BLOCKING = {
    "clean/order_lines": {
        "clean_keys_not_null",
        "clean_amount_consistent",
        "clean_dates_plausible",
        "clean_covers_raw",
    },
    "marts/rfm_scores": {"rfm_scores_one_row_per_customer", "rfm_scores_valid", "rfm_scores_segment_rule"},
    "marts/customer_lifetime_value": {
        "customer_lifetime_value_one_row_per_customer",
        "customer_lifetime_value_valid",
    },
    "marts/product_recommendations": {"product_recommendations_valid"},
}


def _checks_by_asset_from_definitions() -> dict[str, dict[str, bool]]:
    graph = defs.resolve_asset_graph()
    checks: dict[str, dict[str, bool]] = {}
    for key in graph.asset_check_keys:
        spec = graph.get_check_spec(key)
        checks.setdefault(key.asset_key.to_user_string(), {})[key.name] = spec.blocking
    return checks


def test_every_asset_has_checks_and_the_gates_are_blocking():
    checks = _checks_by_asset_from_definitions()
    assets = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert assets == set(checks), f"assets without checks: {assets - set(checks)}"
    for asset, names in BLOCKING.items():
        assert {name for name, blocking in checks[asset].items() if blocking} == names
    for asset in assets - set(BLOCKING):
        assert not any(checks[asset].values()), f"{asset} has a blocking check"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory):
    dagster_home = tmp_path_factory.mktemp("dagster_home")
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    log = open(dagster_home / "webserver.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_webserver",
            "-m",
            "retail_platform.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert process.poll() is None, (dagster_home / "webserver.log").read_text()
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=2):
                    break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("webserver did not start: " + (dagster_home / "webserver.log").read_text())
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    deadline = time.monotonic() + 120
    while True:  # the code location may still be loading just after start-up
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.load(response)
        if payload.get("data", {}).get("assetNodes") or time.monotonic() > deadline:
            return payload
        time.sleep(2)


def test_webserver_serves_every_check_next_to_its_asset(webserver):
    payload = _graphql(
        webserver,
        "{ assetNodes { assetKey { path } assetChecksOrError { __typename "
        "... on AssetChecks { checks { name blocking } } } } }",
    )
    served = {}
    for node in payload["data"]["assetNodes"]:
        checks = node["assetChecksOrError"]
        assert checks["__typename"] == "AssetChecks", checks
        served["/".join(node["assetKey"]["path"])] = {c["name"]: c["blocking"] for c in checks["checks"]}
    assert served == (_checks_by_asset_from_definitions())
    assert served["clean/order_lines"]["clean_dates_plausible"] is True
    assert dg.AssetKey(["marts", "rfm_scores"]).to_user_string() in served
