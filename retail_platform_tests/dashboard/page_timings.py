"""Render time of every dashboard page on a warehouse, in headless Chromium, and the README's screenshots.

    .venv/bin/python -m retail_platform_tests.dashboard.page_timings --url postgresql://...  [--screenshots docs/screenshots]

Starts ``retail-platform dashboard`` on the URL, then opens every page twice: first with an empty cache (the
server is new; each page's queries run), then again by the sidebar links as a reader moves between pages
(queries cached). A page counts as rendered when its last element is shown and the script run is over. One
measurement, not a benchmark: no assertion is made on it (the README quotes it).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from retail_platform.dashboard.layout import PAGE_LIST
from retail_platform_tests.dashboard.test_browser import CHROMIUM, CHROMIUM_ARGS, _healthy
from retail_platform_tests.processes import BIN, Process, free_port

# page title in the sidebar -> the text of the page's last element (shown once the run is over)
LAST_ELEMENTS = {
    "Overview": "Net sales: every loaded line",
    "Trends": "A partial first or last month",
    "Customers": "Find a customer",
    "Products": "Net sales are net of cancellations",
    "Data health": "Rejected files and lines",
}
# title, url path (the file's name; none for the default page), last element: every page of the app
PAGES = tuple(
    (title, "" if index == 0 else Path(file).stem, LAST_ELEMENTS[title])
    for index, (file, title, _icon) in enumerate(PAGE_LIST)
)
SCREENSHOT_WIDTH = 1000


def _rendered(page, marker: str) -> None:
    page.get_by_text(marker).first.wait_for(state="visible")
    page.get_by_test_id("stStatusWidget").wait_for(state="detached")


def _shrink(path: Path) -> None:
    """Screenshots for the README: at most SCREENSHOT_WIDTH pixels wide, as small PNGs."""
    from PIL import Image, ImageChops

    with Image.open(path) as image:
        image = image.convert("RGB")
        # cut the empty space below the page's last element (right of the sidebar)
        main = image.crop((image.width // 4, 0, image.width, image.height))
        background = Image.new("RGB", main.size, main.getpixel((main.width - 1, main.height - 1)))
        bottom = ImageChops.difference(main, background).getbbox()
        if bottom:
            image = image.crop((0, 0, image.width, min(image.height, bottom[3] + 40)))
        height = round(image.height * SCREENSHOT_WIDTH / image.width)
        small = image.resize((SCREENSHOT_WIDTH, height), Image.LANCZOS)
    # 256 colours by octree, no dithering: small files that keep the segments' colours exact
    small.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        path, optimize=True
    )


def measure(url: str, screenshots: Path | None, customer: str | None) -> list[tuple[str, float, float]]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="dashboard_timings_"))
    server = Process("dashboard", [str(BIN / "retail-platform"), "dashboard", "--url", url, "--port", str(port)],
                     work / "dashboard.log")  # fmt: skip
    server.start({**os.environ, "RETAIL_WAREHOUSE_URL": url})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if _healthy(base):
                    break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 2600})
            page.set_default_timeout(120_000)
            first: dict[str, float] = {}
            for title, path, marker in PAGES:
                started = time.perf_counter()
                page.goto(f"{base}/{path}")
                _rendered(page, marker)
                first[title] = time.perf_counter() - started
            results = []
            for title, _path, marker in PAGES:
                started = time.perf_counter()
                page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
                _rendered(page, marker)
                results.append((title, first[title], time.perf_counter() - started))
                if screenshots:
                    if title == "Customers" and customer:
                        page.get_by_label("Customer ID").fill(customer)
                        page.get_by_label("Customer ID").press("Enter")
                        _rendered(page, "History")
                    page.wait_for_timeout(1_500)  # charts drawn
                    target = screenshots / f"dashboard-{title.lower().replace(' ', '-')}.png"
                    page.screenshot(path=str(target), full_page=True)
                    _shrink(target)
            browser.close()
        return results
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="the warehouse (any URL whose login may SET ROLE)")
    parser.add_argument("--screenshots", type=Path, help="folder for the README's screenshots")
    parser.add_argument("--customer", help="customer ID to show on the Customers screenshot")
    args = parser.parse_args()
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    print("| page | first load, empty cache (s) | after the first load (s) |\n|---|---:|---:|")
    for title, first, cached in measure(args.url, args.screenshots, args.customer):
        print(f"| {title} | {first:.2f} | {cached:.2f} |")


if __name__ == "__main__":
    main()
