"""Generate docs/figures/report.png and docs/figures/dashboard.png (the README's screenshots).

The report: every scenario over several seeds, compared, and the first screen of
``report.html`` captured. The dashboard: ``python -m sim.dashboard`` started on a free port
and its first screen captured once the outcomes are computed. Both in headless Chromium
(Debian's ``chromium``) driven by Playwright, as in the tests.

    python scripts/make_screenshots.py [--seeds 5] [--set customers.n=500 ...]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"
sys.path.insert(0, str(ROOT / "tests"))

from browser import FLAGS, executable  # noqa: E402


def browser_page(p, width: int, height: int):
    """A page of the system Chromium at the given viewport."""
    path = executable()
    if path is None:
        sys.exit("no Chromium found: apt-get install chromium")
    browser = p.chromium.launch(executable_path=path, args=FLAGS)
    return browser, browser.new_page(viewport={"width": width, "height": height})


def report_screenshot(p, seeds: int, extra: list[str], out: Path) -> Path:
    """Run every scenario over ``seeds`` seeds, compare them, capture the report's top."""
    from sim import run
    from sim.dashboard.engine import scenarios
    from sim.sweep.compare import compare

    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        # the 2024-2026 replay covers another period: not an option to compare with baseline
        for name in [n for n in scenarios() if n != "history_2024_2026"]:
            for seed in range(seeds):
                run(
                    scenario=name,
                    overrides=[f"seed={seed}", *extra],
                    output_dir=runs / name / f"seed={seed}",
                    plots=False,
                )
        result = compare([runs], Path(tmp) / "comparison")
        browser, page = browser_page(p, 1280, 1000)
        page.goto(result.report.as_uri())
        page.wait_for_function("document.body.hasAttribute('data-images-loaded')")
        page.screenshot(path=str(out))
        browser.close()
    return out


def dashboard_screenshot(p, extra: list[str], out: Path, scenario: str) -> Path:
    """Start the dashboard, wait for its outcomes, capture the first screen, stop it."""
    cmd = [sys.executable, "-m", "sim.dashboard", "--port", "0", "--scenario", scenario]
    cmd += [f"--set={s}" for s in extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = re.search(r"http://\S+:\d+/", proc.stdout.readline()).group(0)
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                time.sleep(0.5)
        browser, page = browser_page(p, 1400, 950)
        page.goto(url)
        page.wait_for_selector("#outcomes[data-state=done]", timeout=300_000)
        page.screenshot(path=str(out))
        browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out


def main() -> None:
    """Write both screenshots under docs/figures/."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per scenario in the report")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override for every run (e.g. customers.n=500)",
    )
    parser.add_argument("--scenario", default="tightened_export_rules", help="dashboard's scenario")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    FIGURES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        print(report_screenshot(p, args.seeds, args.set, FIGURES / "report.png"))
        print(dashboard_screenshot(p, args.set, FIGURES / "dashboard.png", args.scenario))


if __name__ == "__main__":
    main()
