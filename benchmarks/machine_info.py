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
