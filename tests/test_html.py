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


def _severities(driver) -> list[str]:
    return [e.text for e in driver.find_elements("css selector", "#rows tr .sev")]


def test_html_report_in_chromium(browser, page):
    from selenium.webdriver.support.ui import Select

    path, report, tmp = page
    browser.set_window_size(1400, 1000)
    browser.get(path.as_uri())
    assert browser.title.startswith("hardcheck report")
    total = report["summary"]["total"]
    fails = report["summary"]["by_status"]["fail"]
    # the default view: failures, most severe first
    assert _count(browser) == fails > 0
    order = ["critical", "high", "medium", "low", "info"]
    shown = _severities(browser)
    assert shown[0] == "critical" and shown == sorted(shown, key=order.index)
    Select(browser.find_element("id", "f-status")).select_by_value("")
    assert _count(browser) == total
    Select(browser.find_element("id", "f-status")).select_by_value("fail")
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
    # the hostile file name is text, not markup
    assert browser.execute_script("return document.querySelectorAll('#rows img').length") == 0
    assert "<img src=x onerror=alert(1)>.env" in browser.find_element("id", "rows").text
    # the trend: overall and per audit, with labels that tell the runs apart
    assert len(browser.find_elements("css selector", "#trend circle")) == 2
    labels = [t.text for t in browser.find_elements("css selector", "#trend text")][:2]
    assert len(set(labels)) == 2, labels
    per_audit = browser.find_elements("css selector", "#audit-trends tr")
    assert [r.find_element("css selector", "td").text for r in per_audit] == ["permissions"]
    # the vulnerability database's age is said on the page when it is past max-db-age
    (deps,) = [a for a in report["audits"] if a["name"] == "dependencies"] or [None]
    stale = deps is not None and deps["stats"].get("vuln_db_age_days", 0) > deps["stats"].get(
        "vuln_db_max_age_days", 10**9
    )
    assert bool(browser.find_elements("id", "db-age")) == stale
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    shot = tmp / "report-1400.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000


def test_html_report_at_390_px_has_no_overflow_and_no_blank_rows(browser, page):
    from selenium.webdriver.support.ui import Select

    path, report, tmp = page
    browser.set_window_size(390, 844)
    try:
        browser.get(path.as_uri() + "#status=")  # every item, passes and skips too
        width = browser.execute_script("return window.innerWidth")
        assert width <= 400
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
        assert _count(browser) == report["summary"]["total"]
        rows = browser.execute_script(
            "return [...document.querySelectorAll('#rows tr, #audits tbody tr')].map("
            "(r) => [r.getBoundingClientRect().width, r.getBoundingClientRect().height, r.innerText])"
        )
        assert rows and all(w <= width and h > 20 and text.strip() for w, h, text in rows), [
            r for r in rows if not (r[0] <= width and r[1] > 20 and r[2].strip())
        ][:3]
        # each value says what it is: the column headers are hidden, cells label themselves
        before = browser.execute_script(
            "return getComputedStyle(document.querySelector('#rows td'), '::before').content"
        )
        assert "status" in before
        Select(browser.find_element("id", "f-status")).select_by_value("fail")
        assert _count(browser) == report["summary"]["by_status"]["fail"]
        shot = tmp / "report-390.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        browser.set_window_size(1400, 1000)


def test_html_report_makes_no_network_requests(page):
    path, _, _ = page
    text = path.read_text()
    assert "default-src 'none'" in text and "script-src 'sha256-" in text
    for needle in ('src="http', 'href="http', "@import", "url(http"):
        assert needle not in text


@pytest.fixture(scope="module")
def fleet_page(tmp_path_factory):
    from tests.conftest import copy_sample

    tmp = tmp_path_factory.mktemp("fleet")
    reports = []
    for sample in ("insecure-fastapi", "hardened-fastapi"):
        out = tmp / f"{sample}.json"
        run_cli("audit", str(copy_sample(sample, tmp)), "--format", f"json:{out}", "-q")
        reports.append(str(out))
    page = tmp / "fleet.html"
    run = run_cli("merge", *reports, reports[0], "-f", "html", "-o", str(page))
    assert run.code == 0, run.stderr
    fleet = json.loads(run_cli("merge", *reports).stdout)
    return page, fleet, tmp


def test_the_fleet_page_has_a_row_per_service_and_drills_down(browser, fleet_page):
    page, fleet, tmp = fleet_page
    for width, height in ((1400, 1000), (390, 844)):
        browser.set_window_size(width, height)
        browser.get(page.as_uri())
        services = browser.find_elements("css selector", "#services details")
        assert len(services) == 2  # the report given twice counts once
        worst = services[0]
        assert "insecure-fastapi" in worst.find_element("css selector", "summary").text
        assert worst.find_elements("css selector", "tbody tr") == [] or not worst.get_attribute(
            "open"
        )
        worst.find_element("css selector", "summary").click()  # drill down
        rows = worst.find_elements("css selector", "tbody tr")
        fails = fleet["services"][0]["by_status"]["fail"]
        assert len(rows) == fails > 0 and rows[0].is_displayed()
        assert "critical" in rows[0].text
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (width, overflow)
        browser.save_screenshot(str(tmp / f"fleet-{width}.png"))
    browser.set_window_size(1400, 1000)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
