"""The README keeps its promises: the two commands first, every summary key documented."""

from __future__ import annotations

from pathlib import Path

from sim.metrics import SUMMARY_KEYS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    blocks = README.split("```")
    assert "python -m sim" in blocks[1] and "pip install -e ." in blocks[1]
    assert "pytest" in blocks[3] and '".[test]"' in blocks[3]


def test_every_summary_key_is_documented_with_a_unit():
    for key in SUMMARY_KEYS:
        assert f"| `{key}` |" in README, key
