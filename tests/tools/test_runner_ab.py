"""tools.runner_ab: the runners of a git revision beside today's, both against the raw call."""
from __future__ import annotations

from tools import runner_ab


def test_head_against_itself_prints_one_line_per_runtime(small_export, capsys):
    assert runner_ab.main(["--base", "HEAD", "--manifest", str(small_export), "--artifacts", "mlp_onnx_fp32",
                           "--rounds", "6"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["onnxruntime", "onnxruntime-iobinding"]
    assert all("old-raw" in line and "new-raw" in line and "new-old" in line for line in lines)
