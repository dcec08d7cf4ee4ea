"""The HTML report, rendered by headless Chromium: images load, tables hold the aggregate numbers.

Skipped when no Chromium is installed, unless SIM_REQUIRE_BROWSER=1 (set by .ci/run, which
installs Debian's chromium), where a missing browser fails the test instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from sim import run
from sim.config import compose
from sim.sweep.compare import compare
from sim.sweep.jobs import run_job

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
if CHROMIUM is None and os.environ.get("SIM_REQUIRE_BROWSER") != "1":
    pytest.skip("no Chromium on this machine", allow_module_level=True)


class ReportDom(HTMLParser):
    """Collects the body's attributes and every numbers table as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.images = 0
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        elif tag == "img":
            self.images += 1
        elif tag == "table" and "data-table" in attrs:
            self._table = attrs["data-table"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    for scenario in ("baseline", "closed_channel"):
        for seed in range(3):
            run(
                scenario=scenario,
                overrides=[f"seed={seed}", "customers.n=150", "horizon=30"],
                output_dir=root / "runs" / scenario / f"seed={seed}",
                plots=False,
            )
    run_job(
        compose(None, ["customers.n=-1"]),
        root / "runs" / "bad",
        ["customers.n=-1"],
        sweep=True,
        log=logging.getLogger("test"),
    )
    out = compare([root / "runs"], root / "comparison")
    profile = root / "profile"
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            out.report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = ReportDom()
    dom.feed(proc.stdout)
    return dom, pd.read_csv(root / "comparison" / "runs.csv")


def test_every_embedded_image_loads(report):
    dom, _ = report
    assert dom.images >= 3
    assert dom.body.get("data-images-total") == str(dom.images)
    assert dom.body.get("data-images-loaded") == str(dom.images)


def test_headline_table_holds_the_aggregate_means(report):
    dom, runs = report
    rows = dom.tables["headline"]
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    ok = runs[runs["status"] == "ok"]
    checked = 0
    for cells in body:
        group, metric = cells[col["group"]], cells[col["metric"]]
        expected = ok[ok["scenario"] == group][metric].dropna()
        assert int(cells[col["n"]]) == len(expected)
        if len(expected):
            assert float(cells[col["mean"]]) == pytest.approx(expected.mean(), rel=1e-5, abs=1e-12)
            checked += 1
    assert checked >= 20


def test_paired_differences_match_the_aggregate_table(report):
    dom, runs = report
    header, *body = dom.tables["headline"]
    col = {name: i for i, name in enumerate(header)}
    ok = runs[runs["status"] == "ok"].set_index(["scenario", "seed"])
    for cells in body:
        if cells[col["group"]] != "closed_channel" or cells[col["metric"]] != "china_spend_foreign":
            continue
        diff = (
            ok.loc["closed_channel", "china_spend_foreign"]
            - ok.loc["baseline", "china_spend_foreign"]
        )
        assert float(cells[col["diff_vs_reference"]]) == pytest.approx(np.mean(diff), rel=1e-5)
        return
    raise AssertionError("no closed_channel row in the headline table")


def test_failed_jobs_are_listed_with_their_error(report):
    dom, runs = report
    failed = dom.tables["failed"]
    header, *body = failed
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    assert row["status"] == "refused" and "customers.n = -1" in row["error"]
