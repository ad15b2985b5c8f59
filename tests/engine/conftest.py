"""Engine tests: shared settings. Tests marked ``slow`` (the 10⁶-op chain) run only with
``-m slow`` or ``CHAINRULE_SLOW=1``."""

import os
from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    if "slow" in (config.getoption("-m") or "") or os.environ.get("CHAINRULE_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow or CHAINRULE_SLOW=1")
    for item in items:
        if "slow" in item.keywords and _HERE in Path(str(item.fspath)).parents:
            item.add_marker(skip)
