"""The HTML report in real headless Chromium (Debian's chromium + chromedriver through
Selenium, no downloads): it renders, its filters work, the browser logs no errors, nothing
from the audited tree becomes markup, the trend shows earlier runs, and a screenshot is
taken."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import run_cli, sample_with_hostile_name

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(
            "chromium/chromedriver not installed (scripts/test.sh installs them from the OS packages)"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000",
    ):  # fmt: skip
        opts.add_argument(arg)
    opts.binary_location = CHROMIUM
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    root = sample_with_hostile_name(tmp, "<img src=x onerror=alert(1)>.env", "X=1\n")
    earlier = tmp / "earlier.json"
    run_cli("audit", str(root), "--only", "permissions", "--format", f"json:{earlier}", "-q")
    out, data = tmp / "report.html", tmp / "report.json"
    run = run_cli(
        "audit",
        str(root),
        "--format",
        f"html:{out}",
        "--format",
        f"json:{data}",
        "--trend",
        str(earlier),
        "-q",
    )
    assert run.code == 1, run.stderr
    return out, json.loads(data.read_text()), tmp


def _count(driver) -> int:
    return len(driver.find_elements("css selector", "#rows tr"))


def test_html_report_in_chromium(browser, page):
    from selenium.webdriver.support.ui import Select

    path, report, tmp = page
    browser.get(path.as_uri())
    assert browser.title.startswith("hardcheck report")
    total = report["summary"]["total"]
    assert _count(browser) == total
    Select(browser.find_element("id", "f-status")).select_by_value("fail")
    assert _count(browser) == report["summary"]["by_status"]["fail"]
    Select(browser.find_element("id", "f-severity")).select_by_value("critical")
    critical_fails = sum(
        1 for f in report["findings"] if f["status"] == "fail" and f["severity"] == "critical"
    )
    assert _count(browser) == critical_fails > 0
    Select(browser.find_element("id", "f-status")).select_by_value("")
    Select(browser.find_element("id", "f-severity")).select_by_value("")
    Select(browser.find_element("id", "f-owner")).select_by_value("platform")
    assert _count(browser) == sum(1 for f in report["findings"] if f["owner"] == "platform")
    Select(browser.find_element("id", "f-owner")).select_by_value("")
    assert browser.find_element("id", "count").text == f"{total} of {total} items"
    # the hostile file name is text, not markup; the earlier run is in the trend
    assert browser.execute_script("return document.querySelectorAll('#rows img').length") == 0
    assert "<img src=x onerror=alert(1)>.env" in browser.find_element("id", "rows").text
    assert len(browser.find_elements("css selector", "#trend circle")) == 2
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    shot = tmp / "report.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000


def test_html_report_makes_no_network_requests(page):
    path, _, _ = page
    text = path.read_text()
    assert "default-src 'none'" in text and "script-src 'sha256-" in text
    for needle in ('src="http', 'href="http', "@import", "url(http"):
        assert needle not in text
