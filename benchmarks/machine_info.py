"""What a benchmark's numbers were measured on (shared by the benchmark scripts)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def user_env(**extra: str) -> dict[str, str]:
    """This process's environment for a timed child, as a user's shell would give it.

    ``PYTHONDONTWRITEBYTECODE`` (set by CI and by some sandboxes) is dropped: with it every
    ``python -m sim`` compiles the project's modules from source again (about 0.08 s), which
    no installed copy does after its first run.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **extra}


def describe_machine(packages: Iterable[str]) -> dict[str, Any]:
    """CPU, core count, Python, the given packages' versions, the git revision and load."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist in packages:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    nproc, git = shutil.which("nproc"), shutil.which("git")
    return {
        "nproc": subprocess.run([nproc], capture_output=True, text=True).stdout.strip()
        if nproc
        else str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "packages": versions,
        "git": subprocess.run(
            [git, "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        if git
        else "",
        "loadavg_start": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
