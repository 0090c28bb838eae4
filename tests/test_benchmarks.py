"""The benchmark scripts still run: a smoke run of the targets table (the timings are not checked)."""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_targets_quick_prints_one_row_per_layer_target():
    run = subprocess.run([sys.executable, "benchmarks/targets.py", "--quick", "--repeat", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("case"))
    assert lines[header].split() == ["case", "convlib", "PyTorch", "ratio", "target", "result"]
    rows = lines[header + 2:]
    assert len(rows) == 3 + 4  # three convolutions, max and mean pooling on two maps
    for row in rows:
        # every row ends with a convlib time, a target and a verdict; never a mismatch with PyTorch
        assert re.search(r"\d ms .*<= 1\.5x\s+(pass|short|-)$", row), row
    assert "cpus available" in run.stdout


def test_targets_rejects_bad_arguments():
    run = subprocess.run([sys.executable, "benchmarks/targets.py", "--repeat", "0"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--repeat must be >= 1, got 0" in run.stderr
