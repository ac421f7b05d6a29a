"""Every sink this build knows is in the fault tests, or says why not, and
passes the sink conformance suite (tests/support/sink_conformance.h).

The sinks come from `kinesis-connect components` (the daemon's list of
built-in components); the fault tests' sinks from sinks.py, and the tests
CTest runs from this folder's CMakeLists.txt. A sink added to the list
fails this test until its crash, resharding and storm tests exist.
"""

import os
import re
import subprocess
import unittest

import sinks

# Sinks covered by another sink's fault tests, or that have nothing durable
# to check, and why.
NOT_ON_THEIR_OWN = {
    "stdout": "writes to a pipe: a crash leaves nothing to check but the pipe",
    "s3_manifest": "the first half of RedshiftSink's flow, crashed with it",
}

# The kinds of fault test every sink gets (CTest faults_<kind>_<sink>).
KINDS = ("crashes", "resharding", "storms")


def built_in_sinks():
    binary = os.environ.get("KC_BINARY")
    if not binary:
        raise unittest.SkipTest("KC_BINARY is not set; run the tests with scripts/test")
    out = subprocess.run([binary, "components"], check=True, capture_output=True, text=True,
                         timeout=30).stdout
    for line in out.splitlines():
        if line.startswith("sinks:"):
            return line.split()[1:]
    raise AssertionError("kinesis-connect components printed no sinks line:\n" + out)


def fault_test_names():
    with open(os.path.join(os.path.dirname(__file__), "CMakeLists.txt"), encoding="utf-8") as f:
        text = f.read()
    names = set()
    for classes, kind in re.findall(r"foreach\(sink ([A-Za-z0-9 ]+)\)\s*\n[^\n]*\n\s*"
                                    r"kc_fault_test\(faults_(\w+)_\$\{lower\}", text):
        for cls in classes.split():
            names.add(f"faults_{kind}_{cls.lower()}")
    return names


def conformance_sink_names():
    """The sinks the conformance suite is instantiated with: the names given
    to Sink(...) in its unit and integration test files."""
    tests = os.path.join(os.path.dirname(__file__), "..")
    names = set()
    for path in ("unit/sink_conformance_test.cc", "integration/sink_conformance_it.cc"):
        with open(os.path.join(tests, path), encoding="utf-8") as f:
            names.update(re.findall(r'\bSink(?:<\w+>)?\("(\w+)"', f.read()))
    return names


class SinkCoverageTest(unittest.TestCase):
    def test_every_built_in_sink_passes_the_conformance_suite(self):
        names = conformance_sink_names()
        for sink in built_in_sinks():
            with self.subTest(sink=sink):
                self.assertIn(sink, names, f"sink '{sink}' does not instantiate the sink "
                              "conformance suite (tests/unit/sink_conformance_test.cc or "
                              "tests/integration/sink_conformance_it.cc)")

    def test_every_built_in_sink_has_fault_tests(self):
        # FileSink for "file", DynamoDbSink for "dynamodb".
        by_type = {cls.__name__.lower().removesuffix("sink"): cls
                   for cls in vars(sinks).values()
                   if isinstance(cls, type) and issubclass(cls, sinks.Sink) and
                   cls is not sinks.Sink}
        tests = fault_test_names()
        for sink in built_in_sinks():
            with self.subTest(sink=sink):
                if sink in NOT_ON_THEIR_OWN:
                    continue
                self.assertIn(sink.replace("_", ""), by_type,
                              f"sink '{sink}' has no class in tests/faults/sinks.py")
                for kind in KINDS:
                    self.assertIn(f"faults_{kind}_{sink}", tests,
                                  f"sink '{sink}' has no {kind} test in tests/faults")

    def test_exemptions_name_sinks_that_exist(self):
        known = set(built_in_sinks())
        for sink in NOT_ON_THEIR_OWN:
            self.assertIn(sink, known, f"'{sink}' is exempted but is not a built-in sink")


if __name__ == "__main__":
    unittest.main()
