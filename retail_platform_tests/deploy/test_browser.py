"""The deployed UI (local processes, conftest.py) in a real browser after the main job ran: see browser.py."""

from __future__ import annotations

import pytest

from retail_platform_tests.deploy.browser import CHROMIUM, SCREENSHOTS, SKIP_REASON, walk_through_the_ui
from retail_platform_tests.deploy.conftest import Deployment

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)


def test_the_ui_shows_the_asset_graph_checks_and_chart(deployment: Deployment, full_refresh_run: dict, page):
    try:
        walk_through_the_ui(deployment, page)
    except BaseException:
        page.screenshot(path=str(SCREENSHOTS / "failure.png"))
        raise
