"""The README keeps its promises: the two commands first, every summary key documented, its
Python example runs as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.metrics import SUMMARY_KEYS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    blocks = README.split("```")
    assert "python -m sim" in blocks[1] and "pip install -e ." in blocks[1]
    assert "pytest" in blocks[3] and '".[test]"' in blocks[3]


def test_every_summary_key_is_documented_with_a_unit():
    for key in SUMMARY_KEYS:
        assert f"| `{key}` |" in README, key


@pytest.mark.slow
def test_the_run_many_example_runs_as_a_script(tmp_path):
    """The README's ``run_many`` example, saved as a file and run as a user would (its worker
    processes are spawned, so the script needs its main guard), at two seeds."""
    (example,) = [b for b in README.split("```python")[1:] if "run_many(" in b]
    code = example.split("```")[0]
    code = code.replace("seeds=5", "seeds=2").replace('"outputs/my_runs"', repr(str(tmp_path)))
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count(" ok") == 4  # two designs x two seeds
