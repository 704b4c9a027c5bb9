"""A self-contained HTML report: summary, score per audit, the checklist with filters by
status, severity, owner and audit, and — given earlier JSON reports — a score trend.

Safety: the report data is embedded as JSON (with `<` escaped) and put on the page with
`textContent` only, never as HTML, so nothing from the audited tree can inject markup or
script. A Content-Security-Policy meta tag allows exactly the one inline script (by its
hash) and inline styles: the page cannot fetch anything from the network.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Sequence

from ..model import gate_label
from . import RenderOptions
from .model import Report, grade

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
"""

SCRIPT = """
(function () {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const rows = document.getElementById('rows');
  const count = document.getElementById('count');
  const pick = (id) => document.getElementById(id).value;
  function cell(tr, text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
  function render() {
    const st = pick('f-status'), sev = pick('f-severity'), own = pick('f-owner'), aud = pick('f-audit');
    rows.textContent = '';
    let shown = 0;
    for (const f of data.findings) {
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
  for (const k of ['status', 'severity', 'owner', 'audit']) { if (params.get(k)) document.getElementById('f-' + k).value = params.get(k); }
  render();
})();
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _trend_svg(points: Sequence[tuple[str, int]]) -> str:
    """A small score-over-time line chart, drawn here so the page needs no chart library."""
    if len(points) < 2:
        return ""
    width, height, pad = 640, 160, 30
    step = (width - 2 * pad) / (len(points) - 1)
    coords = [
        (pad + i * step, height - pad - (score / 100) * (height - 2 * pad))
        for i, (_, score) in enumerate(points)
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1d2430"><title>{_esc(when)}: {score}</title></circle>'
        for (x, y), (when, score) in zip(coords, points)
    )
    labels = "".join(
        f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{_esc(when[5:16].replace("T", " "))}</text>'
        for (x, _), (when, _) in zip(coords, points)
    )
    axis = f'<text x="4" y="{pad + 4}">100</text><text x="10" y="{height - pad + 4}">0</text>'
    return (
        f'<svg id="trend" role="img" aria-label="score trend" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="100%" height="100%" fill="#fff"/>{axis}'
        f'<path d="{path}" fill="none" stroke="#0969da" stroke-width="2"/>{dots}{labels}</svg>'
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
        f"<tr><td>{_esc(a.name)}</td><td class='status status-{a.status.value}'>{a.status.value}</td>"
        f"<td>{a.score}</td><td>{a.counts['fail']}</td><td>{a.counts['error']}</td><td>{a.duration_seconds:.2f}s</td>"
        f"<td>{_esc(a.message)}</td></tr>"
        for a in report.audits
    )
    points = [(h["run"]["finished"], h["summary"]["score"]) for h in history] + [
        (report.finished, value)
    ]
    points.sort(key=lambda p: p[0])
    trend = _trend_svg(points)
    trend_html = f"<h2>Score trend</h2>{trend}" if trend else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hardcheck report — {_esc(report.target)}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>hardcheck report</h1>
<div class="meta">{_esc(report.target)} · {_esc(report.finished)} · hardcheck {_esc(report.tool_version)} · fail-on {gate_label(report.fail_on)}</div></header>
<main>
<div class="cards">{card_html}</div>
<h2>Audits</h2>
<table id="audits"><thead><tr><th>audit</th><th>status</th><th>score</th><th>fail</th><th>error</th><th>time</th><th>note</th></tr></thead>
<tbody>{audit_rows}</tbody></table>
{trend_html}
<h2>Checklist</h2>
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
