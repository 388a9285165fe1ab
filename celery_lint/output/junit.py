"""JUnit XML for CI test report views: one suite, one failed test case per diagnostic."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from celery_lint.codes import get_rule
from celery_lint.diagnostics import Diagnostic
from celery_lint.output.source_lines import report_path

# Characters XML 1.0 cannot hold at all, not even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _testcase(suite: ET.Element, diagnostic: Diagnostic) -> None:
    path = report_path(diagnostic.path)
    row, column = diagnostic.location.row, diagnostic.location.column
    rule = get_rule(diagnostic.code)
    name = f"{diagnostic.code} {rule.name}" if rule else diagnostic.code
    case = ET.SubElement(suite, "testcase", classname=_xml_text(path),
                         name=_xml_text(f"{name} ({row}:{column})"),
                         file=_xml_text(path), line=str(row))
    details = [f"{path}:{row}:{column}: {diagnostic.code} {diagnostic.message}"]
    if diagnostic.fix is not None:
        details.append(f"help: {diagnostic.fix.message}")
    if rule is not None:
        details.append(rule.url)
    failure = ET.SubElement(case, "failure", type=diagnostic.code,
                            message=_xml_text(f"{diagnostic.code} {diagnostic.message}"))
    failure.text = _xml_text("\n".join(details))


def render(diagnostics: list[Diagnostic]) -> str:
    count = str(max(len(diagnostics), 1))
    failures = str(len(diagnostics))
    root = ET.Element("testsuites", name="celery-lint", tests=count, failures=failures,
                      errors="0")
    suite = ET.SubElement(root, "testsuite", name="celery-lint", tests=count, failures=failures,
                          errors="0", skipped="0")
    for diagnostic in diagnostics:
        _testcase(suite, diagnostic)
    if not diagnostics:
        # A report with no test case reads as "no tests ran"; a clean run is one that passed.
        ET.SubElement(suite, "testcase", classname="celery-lint", name="All checks passed")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
