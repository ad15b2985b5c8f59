"""Shared by the documentation tests: run times reported at the end of the session."""

import pytest

TIMINGS: dict[str, float] = {}


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("documentation run times")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")
