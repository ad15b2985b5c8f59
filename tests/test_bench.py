"""The bench runs and every implementation does the same work (no timings are checked)."""

import json

from chainrule.bench import main


def test_quick_bench_runs_and_losses_agree(tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = main(["--quick", "--peers", "", "--cases", "tiny,digits", "--json", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["losses_agree"]
    for case in res["cases"].values():
        for name in ("numpy", "chainrule", "chainrule compiled"):
            assert case["impls"][name]["agrees"], name
            assert case["impls"][name]["step_us"] > 0
    assert "Per-op overhead" in capsys.readouterr().out
