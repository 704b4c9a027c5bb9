"""JUnit XML for CI test-report UIs: a test suite per audit, a test case per checklist
item; fail -> <failure>, error -> <error>, skip -> <skipped> with its reason. Text comes
from findings (already escaped of control characters) and ElementTree escapes markup."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

from ..model import Status
from . import RenderOptions
from .model import Report


def render(report: Report, options: RenderOptions) -> str:
    root = ET.Element("testsuites", name="hardcheck", time=f"{report.duration_seconds:.3f}")
    groups: dict[str, list] = {}
    for f in report.findings:
        groups.setdefault(f.audit, []).append(f)
    durations = {a.name: a.duration_seconds for a in report.audits}
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for audit, findings in groups.items():
        counts = {
            "tests": len(findings),
            "failures": sum(f.status is Status.FAIL for f in findings),
            "errors": sum(f.status is Status.ERROR for f in findings),
            "skipped": sum(f.status is Status.SKIP for f in findings),
        }
        for k, v in counts.items():
            totals[k] += v
        suite = ET.SubElement(
            root,
            "testsuite",
            attrib={
                "name": audit,
                "time": f"{durations.get(audit, 0.0):.3f}",
                "timestamp": report.started,
                **{k: str(v) for k, v in counts.items()},
            },
        )
        seen: Counter[str] = Counter()
        for f in findings:
            where = f.location.display()
            name = f"{f.rule_id} {f.title}" + (f" — {where}" if where != "-" else "")
            if f.upstream_id:  # one rule, one line, several advisories (DEP001)
                name += f" [{f.upstream_id}]"
            seen[name] += 1
            if seen[name] > 1:  # test-report UIs merge cases that share a name
                name += f" (#{seen[name]})"
            attrib = {"classname": f"hardcheck.{audit}.{f.rule_id}", "name": name, "time": "0"}
            if f.location.path:
                attrib["file"] = f.location.path
                if f.location.line:
                    attrib["line"] = str(f.location.line)
            case = ET.SubElement(suite, "testcase", attrib=attrib)
            detail = f"{f.message}\nseverity: {f.severity.value}\nowner: {f.owner}\nexpected: {f.expected}\nrollback: {f.rollback}"
            if f.status is Status.FAIL:
                ET.SubElement(
                    case, "failure", message=f.message[:500], type=f.severity.value
                ).text = detail
            elif f.status is Status.ERROR:
                ET.SubElement(
                    case, "error", message=f.message[:500], type="audit-error"
                ).text = detail
            elif f.status is Status.SKIP:
                ET.SubElement(case, "skipped", message=f.message[:500])
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
