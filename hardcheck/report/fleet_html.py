"""The fleet as one self-contained HTML page: a row per service (score, grade, failures by
severity, whether it finished), worst first, each opening onto its failures, most severe
first. Everything is escaped and the page has no script at all (drill-down is <details>),
so its CSP allows none and it fetches nothing."""

from __future__ import annotations

import html
from typing import Any

from ..fleet import where
from ..model import SEVERITY_ORDER
from .html import CSS, page_head

SEVERITIES = [s.value for s in reversed(SEVERITY_ORDER)]  # critical first
FLEET_CSS = """
.service>summary{display:flex;gap:12px;flex-wrap:wrap;align-items:baseline;padding:10px 14px;background:#fff;border-radius:8px;box-shadow:0 1px 2px rgba(0,0,0,.08);margin-bottom:8px}
.service>summary b{font-family:ui-monospace,monospace;word-break:break-all}
.service table{margin:0 0 14px}
.counts span{margin-right:6px}
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _service(service: dict[str, Any], failures: list[dict[str, Any]]) -> str:
    counts = "".join(
        f"<span class='sev sev-{s}'>{service['failing_by_severity'][s]} {s}</span>"
        for s in SEVERITIES
        if service["failing_by_severity"].get(s)
    )
    state = "" if service["complete"] else " <span class='status status-error'>incomplete</span>"
    rows = "".join(
        f"<tr><td data-label='severity'><span class='sev sev-{_esc(f['severity'])}'>"
        f"{_esc(f['severity'])}</span></td><td data-label='rule'>{_esc(f['rule_id'])} "
        f"{_esc(f['title'])}</td><td data-label='location' class='loc'>"
        f"{_esc(where(f['location']))}</td><td data-label='message' class='msg'>"
        f"{_esc(f['message'])}</td><td data-label='owner'>{_esc(f.get('owner', ''))}</td></tr>"
        for f in failures
    )
    table = (
        "<table><thead><tr><th>severity</th><th>rule</th><th>location</th><th>message</th>"
        f"<th>owner</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else "<p class='count'>No failures.</p>"
    )
    return (
        f"<details class='service'><summary><b>{_esc(service['target'])}</b>"
        f"<span class='grade-{_esc(service['grade'])}'>{service['score']}/100 "
        f"({_esc(service['grade'])})</span><span class='counts'>{counts}</span>{state}"
        f"<span class='count'>{_esc(service['finished'])}</span></summary>{table}</details>"
    )


def render(fleet: dict[str, Any]) -> str:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    by_run: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for f in fleet["findings"]:
        if f["status"] == "fail":
            by_run.setdefault((f["target"], f.get("run_id")), []).append(f)
    services = sorted(fleet["services"], key=lambda s: (s["score"], s["target"]))  # worst first
    body = "".join(
        _service(
            s,
            sorted(by_run.get((s["target"], s["run_id"]), []), key=lambda f: rank[f["severity"]]),
        )
        for s in services
    )
    summary = fleet["summary"]
    dup = (
        f" · {summary['duplicates']} duplicate report(s) counted once"
        if summary["duplicates"]
        else ""
    )
    csp = "default-src 'none'; style-src 'unsafe-inline'"
    title = f"hardcheck fleet — {summary['services']} services"
    return f"""{page_head(title, csp, CSS + FLEET_CSS)}
<header><h1>hardcheck fleet</h1>
<div class="meta">{summary["services"]} services · mean score {summary["mean_score"]} · {summary["failing_services"]} failing · {summary["incomplete_services"]} incomplete{_esc(dup)} · generated {_esc(fleet["generated"])}</div></header>
<main>
<h2>Services, worst first</h2>
<div id="services">{body}</div>
</main>
</body>
</html>
"""
