"""A self-contained HTML report: summary, score per audit, the checklist with filters by
status, severity, owner and audit, and — given earlier JSON reports — a score trend.

Safety: the report data is embedded as JSON (with `<` escaped) and put on the page with
`textContent` only, never as HTML, so nothing from the audited tree can inject markup or
script. A Content-Security-Policy meta tag allows exactly the one inline script (by its
hash) and inline styles: the page cannot fetch anything from the network.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..model import gate_label
from . import RenderOptions
from .model import Report, grade, parse_time

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}
header .meta{opacity:.8;font-size:13px;margin-top:4px}
main{padding:20px 28px;max-width:1400px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:18px}
.card{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08);min-width:120px}
.card b{display:block;font-size:22px}.card span{font-size:12px;color:#5a6472;text-transform:uppercase}
.grade-A{color:#1a7f37}.grade-B{color:#5c8a00}.grade-C{color:#9a6700}.grade-D{color:#bc4c00}.grade-F{color:#cf222e}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:8px;overflow:hidden;box-shadow:0 1px 2px rgba(0,0,0,.08)}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #eceef1;vertical-align:top}
th{background:#f0f2f5;font-size:12px;text-transform:uppercase;color:#5a6472}
td.msg{max-width:520px;word-break:break-word}td.loc{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.status{font-weight:600}.status-fail{color:#cf222e}.status-error{color:#bc4c00}.status-skip{color:#8c959f}.status-pass{color:#1a7f37}
.sev-critical{background:#8250df;color:#fff}.sev-high{background:#cf222e;color:#fff}.sev-medium{background:#d4a72c}.sev-low{background:#54aeff}.sev-info{background:#d0d7de}
.sev{border-radius:10px;padding:1px 8px;font-size:12px}
.filters{display:flex;gap:10px;margin:16px 0;flex-wrap:wrap;align-items:center}
select{padding:4px 6px}.count{color:#5a6472;font-size:13px}
h2{font-size:16px;margin:22px 0 10px}details summary{cursor:pointer}
svg text{font-size:11px;fill:#5a6472}
.banner{background:#fff8c5;border:1px solid #d4a72c;border-radius:8px;padding:10px 14px;margin-bottom:16px}
.trend-wrap{overflow-x:auto}.sparks td{vertical-align:middle}
@media (max-width:700px){
main{padding:12px}header{padding:14px 12px}header .meta{word-break:break-all}
.card{min-width:0;flex:1 1 40%}
table,thead,tbody,tr,th,td{display:block;width:auto}
thead{display:none}table{box-shadow:none;background:none}
tr{background:#fff;border-radius:8px;margin:0 0 10px;padding:8px 10px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
td{border:0;padding:2px 0;max-width:none}td.msg{max-width:none}
td[data-label]::before{content:attr(data-label) ": ";color:#5a6472;font-size:12px;text-transform:uppercase}
#trend{width:100%;height:auto}
}
"""

SCRIPT = """
(function () {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const rows = document.getElementById('rows');
  const count = document.getElementById('count');
  const pick = (id) => document.getElementById(id).value;
  const labels = ['status', 'severity', 'audit', 'rule', 'location', 'message', 'owner'];
  function cell(tr, text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; td.dataset.label = labels[tr.children.length]; tr.appendChild(td); return td; }
  const rank = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  const order = { fail: 0, error: 1, skip: 2, pass: 3 };
  // failures first, most severe first; the order of the report within
  const sorted = data.findings.map((f, i) => [f, i]).sort((a, b) =>
    (order[a[0].status] - order[b[0].status]) || (a[0].status === 'fail' ? rank[a[0].severity] - rank[b[0].severity] : 0) || (a[1] - b[1])).map((p) => p[0]);
  function render() {
    const st = pick('f-status'), sev = pick('f-severity'), own = pick('f-owner'), aud = pick('f-audit');
    rows.textContent = '';
    let shown = 0;
    for (const f of sorted) {
      if ((st && f.status !== st) || (sev && f.severity !== sev) || (own && f.owner !== own) || (aud && f.audit !== aud)) continue;
      const tr = document.createElement('tr');
      tr.dataset.status = f.status;
      cell(tr, f.status, 'status status-' + f.status);
      const sevCell = cell(tr, '');
      const badge = document.createElement('span'); badge.className = 'sev sev-' + f.severity; badge.textContent = f.severity; sevCell.appendChild(badge);
      cell(tr, f.audit);
      cell(tr, f.rule_id + ' ' + f.title);
      const l = f.location; cell(tr, [l.path ? l.path + (l.line ? ':' + l.line : '') : '', l.url || '', l.setting || '', l.service ? '(service ' + l.service + ')' : ''].filter(Boolean).join(' '), 'loc');
      const msg = cell(tr, f.message, 'msg');
      if (f.status === 'fail') {
        const d = document.createElement('details'); const s = document.createElement('summary'); s.textContent = 'expected · rollback';
        const p1 = document.createElement('p'); p1.textContent = 'Expected: ' + f.expected;
        const p2 = document.createElement('p'); p2.textContent = 'Rollback: ' + f.rollback;
        d.append(s, p1, p2); msg.appendChild(d);
      }
      cell(tr, f.owner);
      rows.appendChild(tr); shown++;
    }
    count.textContent = shown + ' of ' + data.findings.length + ' items';
  }
  function fill(id, values) {
    const sel = document.getElementById(id);
    for (const v of values) { const o = document.createElement('option'); o.value = v; o.textContent = v; sel.appendChild(o); }
    sel.addEventListener('change', render);
  }
  const uniq = (k) => [...new Set(data.findings.map((f) => f[k]))].sort();
  fill('f-status', ['fail', 'error', 'skip', 'pass']);
  fill('f-severity', ['critical', 'high', 'medium', 'low', 'info']);
  fill('f-owner', uniq('owner'));
  fill('f-audit', uniq('audit'));
  const params = new URLSearchParams(location.hash.slice(1));
  // the default view: what failed; #status= (empty) shows every item
  document.getElementById('f-status').value = data.findings.some((f) => f.status === 'fail') ? 'fail' : '';
  for (const k of ['status', 'severity', 'owner', 'audit']) { if (params.has(k)) document.getElementById('f-' + k).value = params.get(k); }
  render();
})();
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def page_head(title: str, csp: str, css: str) -> str:
    """The start of a self-contained page, up to <body>: its CSP, viewport and styles."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)}</title>
<style>{css}</style>
</head>
<body>"""


def _parse(stamp: str) -> dt.datetime | None:
    try:
        return parse_time(stamp)
    except ValueError:
        return None


def when_labels(stamps: Sequence[str]) -> list[str]:
    """Labels that tell runs apart: the time when all are on one day (to the second when
    two share a minute, numbered when two share a second), day and time within a year,
    else the date. UTC, as recorded."""
    times = [_parse(s) for s in stamps]
    known = [t for t in times if t is not None]
    if len(known) != len(times):
        return [s[:19].replace("T", " ") for s in stamps]
    if len({t.date() for t in known}) == 1:
        minutes = {t.strftime("%H:%M") for t in known}
        fmt = "%H:%M:%S" if len(minutes) < len(known) else "%H:%M"
    elif len({t.year for t in known}) == 1:
        fmt = "%b %d %H:%M"
    else:
        fmt = "%Y-%m-%d"
    labels = [t.strftime(fmt) for t in known]
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):  # runs within one second: numbered in order
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            labels[i] = f"{label} #{seen[label]}"
    return labels


def _trend_svg(
    points: Sequence[tuple[str, int]], width: int = 640, height: int = 160, ident: str = "trend"
) -> str:
    """A small score-over-time line chart, drawn here so the page needs no chart library."""
    if len(points) < 2:
        return ""
    pad = 30 if height > 60 else 6
    step = (width - 2 * pad) / (len(points) - 1)
    coords = [
        (pad + i * step, height - pad - (score / 100) * (height - 2 * pad))
        for i, (_, score) in enumerate(points)
    ]
    labels = when_labels([when for when, _ in points])
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1d2430">'
        f"<title>{_esc(label)}: {score}</title></circle>"
        for (x, y), label, (_, score) in zip(coords, labels, points)
    )
    texts = ""
    if height > 60:  # the overall chart is labelled; the per-audit ones have tooltips
        every = max(1, len(points) // 6)  # at most about six labels: they never overlap
        texts = "".join(
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{_esc(label)}</text>'
            for i, ((x, _), label) in enumerate(zip(coords, labels))
            if i % every == 0 or i == len(points) - 1
        )
        texts += f'<text x="4" y="{pad + 4}">100</text><text x="10" y="{height - pad + 4}">0</text>'
    return (
        f'<svg id="{ident}" role="img" aria-label="score trend" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="100%" height="100%" fill="#fff"/>'
        f'<path d="{path}" fill="none" stroke="#0969da" stroke-width="2"/>{dots}{texts}</svg>'
    )


def _audit_trends(history: Sequence[Mapping[str, Any]], report: Report) -> str:
    """One small chart per audit: its score in each earlier run and in this one."""
    rows = []
    for a in report.audits:
        points = [
            (h["run"]["finished"], earlier["score"])
            for h in history
            for earlier in h.get("audits", [])
            if earlier.get("name") == a.name and isinstance(earlier.get("score"), int)
        ]
        points = sorted([*points, (report.finished, a.score)])
        chart = _trend_svg(points, 180, 36, f"trend-{a.name}")
        if not chart:
            continue
        first = when_labels([p[0] for p in points])[0]
        change = points[-1][1] - points[0][1]
        rows.append(
            f"<tr><td data-label='audit'>{_esc(a.name)}</td><td>{chart}</td>"
            f"<td data-label='score'>{a.score} ({change:+d} since {_esc(first)})</td></tr>"
        )
    if not rows:
        return ""
    body = "".join(rows)
    return (
        f"<h3>Per audit</h3><table class='sparks' id='audit-trends'><tbody>{body}</tbody></table>"
    )


def _db_banner(report: Report) -> str:
    """Said on the page: the vulnerability database is older than max-db-age."""
    stale = report.stale_vuln_db()
    if stale is None:
        return ""
    return (
        f"<div class='banner' id='db-age'><b>The vulnerability database is {stale[0]} days "
        f"old</b> (max-db-age {stale[1]}): advisories published since are not known. "
        "Run <code>hardcheck db update</code>.</div>"
    )


def render(report: Report, options: RenderOptions) -> str:
    history = options.history
    data = report.to_dict()
    shown = {id(f) for f in options.shown(report.findings)}
    findings = [d for f, d in zip(report.findings, data["findings"]) if id(f) in shown]
    payload = json.dumps({"findings": findings}, ensure_ascii=False).replace("<", "\\u003c")
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; img-src data:"
    value = report.score
    letter = grade(value)
    counts = data["summary"]["by_status"]
    verdict = {0: "PASS", 1: "FAIL", 3: "INCOMPLETE"}[report.exit_code]
    cards = [
        (f"{value}/100", "score", f"grade-{letter[0]}"),
        (letter, "grade", f"grade-{letter[0]}"),
        (verdict, f"exit {report.exit_code}", ""),
        (counts["fail"], "fail", "status-fail"),
        (counts["error"], "error", "status-error"),
        (counts["skip"], "skip", "status-skip"),
        (counts["pass"], "pass", "status-pass"),
    ]
    card_html = "".join(
        f'<div class="card"><b class="{cls}">{_esc(v)}</b><span>{_esc(label)}</span></div>'
        for v, label, cls in cards
    )
    audit_rows = "".join(
        f"<tr><td data-label='audit'>{_esc(a.name)}</td>"
        f"<td data-label='status' class='status status-{a.status.value}'>{a.status.value}</td>"
        f"<td data-label='score'>{a.score}</td><td data-label='fail'>{a.counts['fail']}</td>"
        f"<td data-label='error'>{a.counts['error']}</td>"
        f"<td data-label='time'>{a.duration_seconds:.2f}s</td>"
        f"<td data-label='note' class='msg'>{_esc(a.message)}</td></tr>"
        for a in report.audits
    )
    points = [(h["run"]["finished"], h["summary"]["score"]) for h in history] + [
        (report.finished, value)
    ]
    points.sort(key=lambda p: p[0])
    trend = _trend_svg(points)
    trend_html = (
        f"<h2>Score trend</h2><div class='trend-wrap'>{trend}</div>{_audit_trends(history, report)}"
        if trend
        else ""
    )
    return f"""{page_head(f"hardcheck report — {report.target}", csp, CSS)}
<header><h1>hardcheck report</h1>
<div class="meta">{_esc(report.target)} · {_esc(report.finished)} · hardcheck {_esc(report.tool_version)} · fail-on {gate_label(report.fail_on)}</div></header>
<main>
{_db_banner(report)}
<div class="cards">{card_html}</div>
<h2>Audits</h2>
<table id="audits"><thead><tr><th>audit</th><th>status</th><th>score</th><th>fail</th><th>error</th><th>time</th><th>note</th></tr></thead>
<tbody>{audit_rows}</tbody></table>
{trend_html}
<h2>Checklist</h2>
<p class="count">Shown first: what failed, most severe first. Choose status “all” for every item.</p>
<div class="filters">
<label>status <select id="f-status"><option value="">all</option></select></label>
<label>severity <select id="f-severity"><option value="">all</option></select></label>
<label>owner <select id="f-owner"><option value="">all</option></select></label>
<label>audit <select id="f-audit"><option value="">all</option></select></label>
<span class="count" id="count"></span>
</div>
<table id="checklist"><thead><tr><th>status</th><th>severity</th><th>audit</th><th>rule</th><th>location</th><th>message</th><th>owner</th></tr></thead>
<tbody id="rows"></tbody></table>
</main>
<script type="application/json" id="report-data">{payload}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""
