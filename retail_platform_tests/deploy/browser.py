"""The deployed UI in a real browser: headless Chromium (Debian's package) driven by Playwright, for the
deployment as local processes (test_browser.py) and in containers (test_docker.py).

Finds the asset graph with every group, opens a chart asset and sees its checks and its chart. Screenshots go
to test-artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from retail_platform_tests.deploy.support import ARTIFACTS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
CHART_GROUP = "charts"
UI_TIMEOUT_MS = 90_000
SCREENSHOTS = ARTIFACTS / "screenshots"
SKIP_REASON = (
    "Debian's chromium is not installed (/usr/bin/chromium): apt-get install -y chromium (.ci/run does)"
)


ASSET_NODES = """
{
  assetNodes {
    assetKey { path }
    groupName
    isMaterializable
    assetChecksOrError { __typename ... on AssetChecks { checks { name } } }
  }
}
"""


def _served_graph(deployment: Any) -> tuple[dict[str, list[str]], tuple[str, ...], list[str]]:
    """Groups with their asset names, and a chart asset with checks (the first by name) and its checks, as the
    webserver serves them."""
    groups: dict[str, list[str]] = {}
    chart_checks: dict[tuple[str, ...], list[str]] = {}
    for node in deployment.graphql(ASSET_NODES)["assetNodes"]:
        path = node["assetKey"]["path"]
        if not node["isMaterializable"]:
            continue  # a dependency without a definition: drawn (if at all) beside the groups, not in one
        groups.setdefault(node["groupName"], []).append(path[-1])
        if node["groupName"] == CHART_GROUP:
            assert node["assetChecksOrError"]["__typename"] == "AssetChecks", node
            chart_checks[tuple(path)] = sorted(
                check["name"] for check in node["assetChecksOrError"]["checks"]
            )
    with_checks = sorted(key for key, checks in chart_checks.items() if checks)
    assert with_checks, f"no asset of group {CHART_GROUP} has asset checks: {sorted(chart_checks)}"
    return groups, with_checks[0], chart_checks[with_checks[0]]


@contextlib.contextmanager
def chromium_page(profile: Path) -> Iterator[Any]:
    """A Playwright page in headless Chromium with a fresh profile."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        # a fresh profile every time; never Playwright's own browser builds
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1680, "height": 1200},
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def walk_through_the_ui(deployment: Any, page: Any, prefix: str = "") -> None:
    """The asset graph, a chart asset's checks and its chart; screenshots named ``<prefix>asset-*.png``."""
    from playwright.sync_api import expect

    expect.set_options(timeout=UI_TIMEOUT_MS)
    groups, chart_asset, checks = _served_graph(deployment)
    assert {"raw", "clean", "marts", "charts"} <= set(groups)
    url = deployment.webserver_url

    # --- the global asset graph, every group -----------------------------------------------------------
    page.goto(f"{url}/asset-groups")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()
    for group in groups:
        # the group list beside the graph, and the group's box in the graph
        expect(page.get_by_role("button", name=group, exact=False).first).to_be_visible()
    # Expand every group (the graph's settings menu), reload so that the graph is laid out and fitted again,
    # and zoom out one step so that the tallest group fits the picture.
    page.locator("button:has([aria-label='settings'])").last.click()
    menu_item = page.get_by_role("menuitem").filter(has_text="all groups").first
    if "Expand" in menu_item.inner_text():
        menu_item.click()
    page.reload()
    short_names = {group: [name for name in names if len(name) <= 14] for group, names in groups.items()}
    for group, names in short_names.items():
        assert names, f"no untruncated asset name to look for in group {group}"
        # The graph draws only what is in view, and it has grown past one screen: a double click on the group in
        # the list beside it opens the group there and brings its assets into view.
        page.get_by_role("button", name=group, exact=False).first.dblclick()
        for name in names:
            expect(page.get_by_text(name, exact=True).first).to_be_visible()
    page.reload()
    page.locator("button:has([aria-label='zoom_out'])").first.click()
    page.wait_for_timeout(1_500)  # let the graph settle (edges, zoom) before the picture
    page.screenshot(path=str(SCREENSHOTS / f"{prefix}asset-graph.png"))

    # --- a chart asset: its checks ------------------------------------------------------------------------
    page.goto(f"{url}/assets/{'/'.join(chart_asset)}")
    expect(page.get_by_text(chart_asset[-1], exact=True).first).to_be_visible()
    assert checks, f"{'/'.join(chart_asset)} has no asset checks"
    page.get_by_role("tab", name="Checks").first.click()
    expect(page.get_by_text(f"Checks ({len(checks)})")).to_be_visible()
    for check in checks:
        expect(page.get_by_text(check, exact=True).first).to_be_visible()
    expect(page.get_by_text("Succeeded").first).to_be_visible()  # the full refresh evaluated them
    page.screenshot(path=str(SCREENSHOTS / f"{prefix}asset-checks.png"))

    # --- and its chart: the markdown picture in the materialization's metadata ---------------------------
    page.get_by_role("tab", name="Overview").first.click()
    chart_row = page.locator("tr").filter(has=page.get_by_text("chart", exact=True))
    chart = page.get_by_role("dialog").locator("img[src^='data:image/png;base64,']")
    # The page re-renders when a new materialization arrives (the sensor's refresh may still be running), and a
    # click on the row it replaced opens nothing: click again, up to three times.
    for attempt in range(3):
        chart_row.get_by_text("[Show Markdown]").first.click()
        try:
            expect(chart).to_be_visible(timeout=20_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    natural_width = chart.evaluate("img => img.complete ? img.naturalWidth : 0")
    assert natural_width > 300, "the chart picture did not decode"
    page.screenshot(path=str(SCREENSHOTS / f"{prefix}asset-chart.png"))
