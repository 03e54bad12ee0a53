"""The running dashboard in a real browser: ``retail-platform dashboard`` on the generated warehouse, every page
opened in headless Chromium (Debian's package, driven by Playwright as the deployment's browser test does),
its key figure shown, no error box. Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from retail_platform.dashboard import formatting as fmt
from retail_platform_tests.dashboard.conftest import BuiltWarehouse
from retail_platform_tests.deploy.support import ARTIFACTS
from retail_platform_tests.processes import BIN, Process, clean_env, free_port, wait_for

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; never Playwright's own browser builds
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = ARTIFACTS / "dashboard"
TIMEOUT_MS = 60_000
ERROR_BOXES = "[data-testid='stException'], [data-testid='stAlertContentError']"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (/usr/bin/chromium): apt-get install -y chromium",
)


def _healthy(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
        return response.read().strip() == b"ok"


@pytest.fixture
def dashboard(built: BuiltWarehouse, tmp_path: Path):
    """``retail-platform dashboard`` on a free port, given only read-only credentials (``RETAIL_DASHBOARD_URL``,
    as the deployment's service is): it must start no embedded server of its own."""
    port = free_port()
    home = tmp_path / "dashboard_home"
    process = Process("dashboard", [str(BIN / "retail-platform"), "dashboard", "--port", str(port)],
                      tmp_path / "dashboard.log")  # fmt: skip
    process.start(clean_env({"RETAIL_HOME": str(home), "RETAIL_DASHBOARD_URL": built.url}))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("the dashboard to answer", lambda: _healthy(url), timeout=90, diagnose=process.tail)
        yield url
    finally:
        process.stop()
    assert not (home / "pgdata").exists(), "the dashboard started an embedded server of its own"


@pytest.fixture
def page(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 1100},
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context.new_page()
        finally:
            context.close()
            shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def _expected(built: BuiltWarehouse) -> dict[str, str]:
    """Each page's key figure, as the page must show it."""
    latest = built.frame("SELECT net_sales FROM marts.monthly_kpis ORDER BY month DESC LIMIT 1").iloc[0]
    total = built.frame("SELECT sum(net_sales) AS s FROM marts.monthly_kpis").iloc[0]
    loaded = built.frame("SELECT sum(lines_loaded) AS n FROM raw.file_loads").iloc[0]
    return {
        "overview": fmt.money(latest["net_sales"]),
        "trends": fmt.money(total["s"]),
        "health": fmt.count(loaded["n"]),
    }


CHUNK_FAILURE = "Failed to fetch dynamically imported module"


def _open(page, url: str, text: str) -> None:
    """Go to ``url`` and wait for ``text``. A JavaScript chunk the browser failed to download (seen on a
    saturated machine) shows as an error box in place of an element: reload once for that, and only that."""
    from playwright.sync_api import expect

    page.goto(url)
    for attempt in (1, 2):
        try:
            expect(page.get_by_text(text, exact=True).first).to_be_visible()
            return
        except AssertionError:
            if attempt == 2 or not page.get_by_text(CHUNK_FAILURE).count():
                raise
            page.reload()


def _settle(page, name: str) -> None:
    """Wait until the script run is over (no 'Running' widget), check for error boxes, take the picture."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    page.wait_for_timeout(1_000)  # let the charts draw before the picture
    assert page.locator(ERROR_BOXES).count() == 0, f"{name}: {page.locator(ERROR_BOXES).first.inner_text()}"
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_every_page_opens_with_its_key_figure_and_no_error(built: BuiltWarehouse, dashboard: str, page):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    figures = _expected(built)
    try:
        for name, path in (("overview", ""), ("trends", "trends"), ("health", "health")):
            _open(page, f"{dashboard}/{path}", figures[name])
            _settle(page, name)

        customer = built.frame("SELECT * FROM marts.rfm_scores ORDER BY monetary DESC LIMIT 1").iloc[0]
        page.goto(f"{dashboard}/customers")
        expect(page.get_by_text("Customers per segment").first).to_be_visible()
        box = page.get_by_label("Customer ID")
        box.fill(str(customer["customer_id"]))
        box.press("Enter")
        expect(page.get_by_text(fmt.money(customer["monetary"], 2), exact=True).first).to_be_visible()
        _settle(page, "customers")

        top = built.frame(
            "SELECT stock_code, description FROM marts.top_products ORDER BY rank LIMIT 1"
        ).iloc[0]
        label = (
            top["stock_code"] if pd.isna(top["description"]) else f"{top['stock_code']} {top['description']}"
        )
        page.goto(f"{dashboard}/products")
        expect(page.get_by_text(f"Products most often on the same orders as {label}").first).to_be_visible()
        _settle(page, "products")
    except BaseException:
        page.screenshot(path=str(SCREENSHOTS / "failure.png"), full_page=True)
        raise
