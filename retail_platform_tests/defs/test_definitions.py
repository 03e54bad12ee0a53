"""The code location loads, and its asset graph has the keys, groups and lineage SPEC §5 promises."""

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import dagster as dg

import retail_platform.defs as defs_package
from retail_platform.definitions import defs

PROJECT = Path(__file__).resolve().parents[2]

CONTRACT_KEYS = [
    "raw/transactions",
    "raw/file_loads",
    "raw/rejected_lines",
    "clean/order_lines",
    "marts/invoice_amount_stats",
    "marts/monthly_kpis",
    "marts/rfm_scores",
    "marts/rfm_segments",
]


def _graph():
    return defs.resolve_asset_graph()


def test_contract_tables_are_assets_with_matching_keys():
    keys = {key.to_user_string() for key in _graph().get_all_asset_keys()}
    assert set(CONTRACT_KEYS) <= keys


def test_every_chart_is_in_the_charts_group_and_every_group_is_a_layer():
    graph = _graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    charts = [key for key in groups if key.startswith("charts/")]
    assert len(charts) >= 7
    assert all(groups[key] == "charts" for key in charts)
    for key, group in groups.items():
        assert key.split("/")[0] == group, f"{key} is in group {group}"


def test_lineage_runs_from_raw_to_charts():
    graph = _graph()
    upstream = graph.get(dg.AssetKey(["charts", "rfm_segment_sizes"])).parent_keys
    assert dg.AssetKey(["marts", "rfm_segments"]) in upstream
    rfm_parents = graph.get(dg.AssetKey(["marts", "rfm_scores"])).parent_keys
    assert rfm_parents == {dg.AssetKey(["clean", "order_lines"])}
    # raw.transactions has two feeds: the landing files and the shop's OLTP extract (raw/shop_orders).
    assert graph.get(dg.AssetKey(["clean", "order_lines"])).parent_keys == {
        dg.AssetKey(["raw", "transactions"]),
        dg.AssetKey(["raw", "shop_orders"]),
    }


def test_every_asset_has_a_description():
    graph = _graph()
    missing = [key.to_user_string() for key in graph.get_all_asset_keys() if not graph.get(key).description]
    assert missing == []


def _module_assets() -> list[dg.AssetsDefinition]:
    """Every asset object defined at module level anywhere under ``retail_platform/defs``, alone or in a
    module-level list (Dagster's loader collects both)."""
    found = {}
    for info in pkgutil.walk_packages(defs_package.__path__, defs_package.__name__ + "."):
        for value in vars(importlib.import_module(info.name)).values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dg.AssetsDefinition):
                    found[id(item)] = item
    return list(found.values())


def test_every_asset_module_under_defs_is_loaded_without_being_listed():
    module_keys = [key for asset in _module_assets() for key in asset.keys]
    assert len(module_keys) == len(set(module_keys)), "an asset key is defined by two asset objects"
    assert set(module_keys) == set(_graph().get_all_asset_keys())


def test_the_global_policies_cover_every_asset_spec():
    graph = _graph()
    for key in graph.get_all_asset_keys():
        node, layer = graph.get(key), key.path[0]
        assert node.automation_condition is None, key  # the refresh after loads is a sensor on the ledger
        assert (node.freshness_policy is not None) == (layer in ("raw", "marts")), key


def test_dagster_finds_the_definitions_without_flags(tmp_path):
    """pyproject.toml's [tool.dagster] lets `dagster` commands run from the project folder with no -m/-f.

    Here with DAGSTER_HOME set, as `retail-platform ui` sets it; with nothing set (the top-level dagster.yaml)
    in retail_platform_tests/deploy/test_local_instance.py.
    """
    completed = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate"],
        cwd=PROJECT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Validation successful for code location retail_platform" in completed.stdout + completed.stderr


def test_every_chart_has_its_png_check():
    graph = _graph()
    charts = {key for key in graph.get_all_asset_keys() if key.path[0] == "charts"}
    checked = {check.asset_key for check in graph.asset_check_keys if check.name == "png_valid"}
    assert charts and charts <= checked, sorted(key.to_user_string() for key in charts - checked)
