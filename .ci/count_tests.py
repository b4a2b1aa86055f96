"""Prints "PASSED FAILED": the test cases in every gtest test.xml under a directory."""
import pathlib
import sys
import xml.etree.ElementTree as ET

passed = failed = 0
for report in pathlib.Path(sys.argv[1]).rglob("test.xml"):
    try:
        root = ET.parse(report).getroot()
    except ET.ParseError:
        failed += 1  # a test binary that died before writing its report
        continue
    cases = root.iter("testcase")
    for case in cases:
        if case.get("status") == "notrun" or case.find("skipped") is not None:
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            passed += 1
print(passed, failed)
