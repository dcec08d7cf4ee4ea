"""Bit-for-bit reproducibility whatever the machine's thread settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SCRIPT = (
    "import json; from sim import run; "
    "print(json.dumps(run(overrides=['customers.n=30000', 'horizon=6', 'seed=9']).summary))"
)


def _summary(threads: str) -> dict:
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": threads,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to give BLAS two threads")
def test_same_numbers_with_one_or_two_blas_threads():
    assert _summary("1") == _summary("2")
