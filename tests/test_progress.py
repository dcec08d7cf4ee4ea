"""Progress bars, drawn on a terminal only and without a helper process; a cheap start and exit."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import io, sys
import multiprocessing.resource_tracker as tracker

class Terminal(io.StringIO):
    def isatty(self):
        return True

sys.stderr = Terminal()
from sim.config import as_config, compose
from sim.runner import simulate

simulate(as_config(compose(overrides=["customers.n=50", "horizon=3"])), progress=True)
drawn = sys.stderr.getvalue()
sys.stderr = sys.__stderr__
print("drawn" if "month" in drawn else "not drawn", tracker._resource_tracker._pid)
"""


def test_a_run_on_a_terminal_draws_its_bar_without_starting_a_helper_process():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["drawn", "None"]


def test_no_bar_away_from_a_terminal(monkeypatch):
    from sim.progress import progress_bar

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert progress_bar(range(3)) is None


def test_the_command_line_leaves_its_objects_to_the_exit_uncollected(tmp_path):
    # Once a run's files are written, the interpreter's last collection over every module
    # imported costs a third of a second; `python -m sim` freezes the collector instead.
    # Frozen at exit only: the handler registered here runs after the app's own.
    script = (
        "import atexit, gc, sys\n"
        "import sim.__main__ as cli\n"
        "atexit.register(lambda: print('frozen at exit', gc.get_freeze_count() > 0))\n"
        f"sys.argv = ['sim', 'customers.n=50', 'horizon=3', 'output.plots=false', "
        f"'hydra.run.dir={tmp_path / 'run'}']\n"
        "cli.main()\n"
        "print('frozen after main', gc.get_freeze_count() > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("frozen")]
    assert lines == ["frozen after main False", "frozen at exit True"]
    assert (tmp_path / "run" / "summary.json").is_file()


def test_the_command_line_gives_openblas_one_thread_unless_told_otherwise():
    # OpenBLAS reads its thread count once, when numpy loads: the entry point must set it first.
    import os

    probe = (
        "import os, sys\n"
        "import sim.__main__\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    for chosen, expected in ((None, "1 False"), ("2", "2 False")):
        run_env = env if chosen is None else {**env, "OPENBLAS_NUM_THREADS": chosen}
        out = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=run_env, check=True
        )
        assert out.stdout.strip() == expected
