"""Prints "PASSED FAILED": the gtest test cases of the given test targets, read from the
test.xml that `bazel test` left for each under the testlogs directory. A target without a
report (it crashed before writing one, or did not run) counts as one failure."""
import pathlib
import sys
import xml.etree.ElementTree as ET

testlogs = pathlib.Path(sys.argv[1])
passed = failed = 0
for label in sys.argv[2:]:
    package, _, name = label.lstrip("/").partition(":")
    report = testlogs / package / name / "test.xml"
    try:
        cases = list(ET.parse(report).getroot().iter("testcase"))
    except (OSError, ET.ParseError):
        failed += 1
        continue
    for case in cases:
        if case.get("status") == "notrun" or case.find("skipped") is not None:
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            passed += 1
print(passed, failed)
