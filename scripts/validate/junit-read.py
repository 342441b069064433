#!/usr/bin/env python3
"""Reads a JUnit XML file with `junitparser` and prints, as JSON, what that consumer saw.

Usage: junit-read.py FILE. Also recounts each suite from its test cases (junitparser's
update_statistics) so a caller can check the written counts against the cases.
"""
import json
import sys
import xml.etree.ElementTree as ElementTree

from junitparser import JUnitXml, TestSuite


def case_results(case):
    return [{"kind": type(r).__name__.lower(), "message": r.message, "type": r.type, "text": r.text}
            for r in case.result]


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    # Attributes exactly as written (junitparser may rewrite its in-memory tree).
    raw = ElementTree.parse(sys.argv[1]).getroot()
    raw_suites = raw.findall("testsuite")
    xml = JUnitXml.fromfile(sys.argv[1])
    if isinstance(xml, TestSuite):
        print("error: root element is <testsuite>, expected <testsuites>", file=sys.stderr)
        return 1
    out = {"tag": raw.tag, "attributes": dict(raw.attrib), "tests": xml.tests, "failures": xml.failures,
           "errors": xml.errors, "time": xml.time, "suites": []}
    for suite, raw_suite in zip(xml, raw_suites):
        raw_cases = raw_suite.findall("testcase")
        written = {"tests": suite.tests, "failures": suite.failures, "errors": suite.errors, "skipped": suite.skipped}
        entry = {"name": suite.name, "attributes": dict(raw_suite.attrib), "timestamp": suite.timestamp,
                 "time": suite.time, "written": written,
                 "properties": [[p.name, p.value] for p in suite.properties()],
                 "cases": [{"name": c.name, "classname": c.classname, "time": c.time,
                            "attributes": dict(r.attrib), "children": [[e.tag, dict(e.attrib)] for e in r],
                            "passed": c.is_passed, "skipped": c.is_skipped,
                            "results": case_results(c)} for c, r in zip(suite, raw_cases)]}
        suite.update_statistics()
        entry["recounted"] = {"tests": suite.tests, "failures": suite.failures, "errors": suite.errors,
                              "skipped": suite.skipped}
        out["suites"].append(entry)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
