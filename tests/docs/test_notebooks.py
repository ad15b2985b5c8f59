"""The learning notebooks in examples/: generated, stored without outputs, and runnable.

Each notebook is executed top to bottom in a fresh Jupyter kernel (nbclient + ipykernel,
the ``test`` extra); an error in any cell fails the test with the cell and its traceback.
The notebooks contain their own asserts, so a claim in the prose that stops being true
fails here too. Run times are printed in the session summary.
"""

import importlib.util
import json
import time
from pathlib import Path

import pytest

from .conftest import TIMINGS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", EXAMPLES / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NAMES = sorted(_generator().NOTEBOOKS)


def test_every_notebook_comes_from_the_generator():
    assert NAMES, "no notebooks defined"
    assert sorted(p.name for p in EXAMPLES.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_matches_the_generator(name):
    pytest.importorskip("nbformat")
    gen = _generator()
    stored = (EXAMPLES / name).read_text(encoding="utf-8")
    assert stored == gen.render(gen.NOTEBOOKS[name]), (
        f"examples/{name} differs from examples/make_notebooks.py: "
        "run `python examples/make_notebooks.py` and commit the result"
    )


@pytest.mark.parametrize("name", NAMES)
def test_no_outputs_are_committed(name):
    nb = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{name} has no code cells"
    for i, cell in enumerate(code):
        assert cell["outputs"] == [], f"{name}: code cell {i} has stored outputs"
        assert cell["execution_count"] is None, f"{name}: code cell {i} has an execution count"
    assert nb["cells"][0]["cell_type"] == "markdown"
    title = "".join(nb["cells"][0]["source"])
    assert title.startswith("# "), f"{name} should open with a title"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    if name.startswith("04"):
        pytest.importorskip("sklearn", reason="the digits notebook needs the data extra")
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    client.execute()
    TIMINGS[f"examples/{name}"] = time.perf_counter() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
