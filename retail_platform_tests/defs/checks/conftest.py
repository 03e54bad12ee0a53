"""Fixtures for the check tests: a warehouse built once per server by the real graph (a template database),
copied into a fresh database for every test so that each can corrupt it freely."""

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from sqlalchemy import Engine

from retail_platform.definitions import defs
from retail_platform.defs.alerting import AlertingResource
from retail_platform.defs.resources import RetailPathsResource, ShopDatabaseResource, WarehouseResource
from retail_platform.sample_data import write_sample
from retail_platform.settings import retail_paths
from retail_platform.warehouse.connection import engine_for, with_database


def resources_for(url: str, home: Path, webhook_url: str | None = None) -> dict:
    return {
        "warehouse": WarehouseResource(url=url),
        "retail_paths": RetailPathsResource(home=str(home)),
        "alerting": AlertingResource(webhook_url=webhook_url),
        "shop": ShopDatabaseResource(),  # no shop: raw/shop_orders extracts nothing
    }


@pytest.fixture(scope="module")
def baseline(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A template database and RETAIL_HOME after one successful full refresh of a generated drop."""
    name = f"rp_tpl_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    home = tmp_path_factory.mktemp("baseline") / "home"
    paths = retail_paths(home).ensure()
    write_sample(paths.landing / "drop.csv", 3_000, seed=11)
    result = defs.resolve_job_def("full_refresh_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), resources=resources_for(url, home)
    )
    assert result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == [], f"baseline must pass every check: {failed}"
    engine_for(url).dispose()
    yield name, home
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Warehouse:
    url: str
    home: Path
    engine: Engine

    def sql(self, statement: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(statement)

    def run_check(
        self,
        key: dg.AssetCheckKey,
        instance: dg.DagsterInstance | None = None,
        webhook_url: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> dg.AssetCheckEvaluation:
        result = dg.materialize(
            [*defs.assets, *defs.asset_checks],
            selection=dg.AssetSelection.checks(key),
            instance=instance or dg.DagsterInstance.ephemeral(),
            resources=resources_for(self.url, self.home, webhook_url),
            tags=tags,
            raise_on_error=False,  # a failing blocking check fails its step; the evaluation is what matters
        )
        (evaluation,) = result.get_asset_check_evaluations()
        return evaluation


@pytest.fixture
def warehouse(server_url: str, baseline: tuple[str, Path], tmp_path: Path) -> Iterator[Warehouse]:
    template, baseline_home = baseline
    name = f"rp_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = with_database(server_url, name)
    home = tmp_path / "home"
    shutil.copytree(baseline_home, home)
    try:
        yield Warehouse(url=url, home=home, engine=engine_for(url))
    finally:
        engine_for(url).dispose()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
