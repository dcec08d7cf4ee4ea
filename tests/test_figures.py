"""Figures and the policy summary, checked in code: ranges, labels, units, honest counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim import run, style
from sim.controls import lever_keys, policy_controls, uncertainty_controls
from sim.metrics import HEADLINE, LOWER, MONTHLY, metric
from sim.schema import plausible_ranges
from sim.sweep import figures, summary
from sim.sweep.aggregate import Aggregate

SMALL = ["customers.n=120", "international.n=10", "horizon=30", "start=2026-07"]


def synthetic(rows: list[tuple[str, str, int, dict[str, float]]]) -> Aggregate:
    """An aggregate from (scenario, kind, seed, metrics) rows, with no model runs."""
    runs = pd.DataFrame(
        [
            {
                "run": f"{s}/{seed}/{i}",
                "status": "ok",
                "scenario": s,
                "scenario_kind": k,
                "seed": seed,
                **m,
            }
            for i, (s, k, seed, m) in enumerate(rows)
        ]
    )
    return Aggregate.in_memory(runs, pd.DataFrame())


@pytest.fixture(scope="module")
def small_agg():
    """Three seeds each of baseline, a policy and a market shock, in memory."""
    runs, series = [], []
    for scenario in ("baseline", "closed_channel", "domestic_catch_up"):
        for seed in range(3):
            r = run(scenario=scenario, overrides=[f"seed={seed}", *SMALL])
            runs.append({**r.summary, "run": f"{scenario}/{seed}", "status": "ok"})
            series.append(
                r.timeseries.assign(run=f"{scenario}/{seed}", scenario=scenario, seed=seed)
            )
    return Aggregate.in_memory(pd.DataFrame(runs), pd.concat(series, ignore_index=True))


def test_intervals_are_clipped_to_the_range_of_the_quantity():
    values = np.array([0.0, 0.0, 0.0, 9.0])
    mean, lo, hi, n = summary.mean_interval(values)
    assert lo < 0  # the plain t-interval would cross zero ...
    mean, lo, hi, n = summary.mean_interval(values, 0.0)
    assert lo == 0.0 and hi > mean and n == 4  # ... the clipped one does not
    assert np.isnan(summary.mean_interval([5.0])[1])


def test_no_band_below_zero_for_non_negative_metrics(small_agg):
    keys = [m.name for m in MONTHLY]
    bands = figures.path_bands(small_agg, keys)
    nonneg = bands["metric"].map(lambda k: metric(k).nonneg)
    assert nonneg.any()
    assert not (bands.loc[nonneg, ["lo", "mean", "hi"]] < 0).any().any()
    table = summary.effects(small_agg)
    levels = table[table["metric"].map(lambda k: metric(k).nonneg)]
    assert (levels["lo"].dropna() >= 0).all()
    # A change can never be larger than the whole reference level for such a metric.
    changes = levels.dropna(subset=["diff_lo"])
    assert (changes["diff_lo"] >= -changes["reference_mean"] - 1e-9).all()


def test_direction_and_party_decide_the_verdict():
    rows = [
        ("baseline", "reference", s, {"gap_closed_months_final": 1.0 + s, "fines": 1.0 + s})
        for s in range(4)
    ]
    rows += [
        ("tight", "policy", s, {"gap_closed_months_final": 0.5 + s, "fines": 3.0 + s})
        for s in range(4)
    ]
    rows += [("solo", "policy", 0, {"gap_closed_months_final": 0.1, "fines": 0.1})]
    table = summary.effects(synthetic(rows), ["gap_closed_months_final", "fines"]).set_index(
        ["group", "metric"]
    )
    assert metric("gap_closed_months_final").better == LOWER
    assert table.loc[("tight", "gap_closed_months_final"), "verdict"] == "better"
    assert table.loc[("tight", "fines"), "verdict"] == "worse"
    assert table.loc[("tight", "gap_closed_months_final"), "pct"] == pytest.approx(-50 / 2.5)
    assert table.loc[("solo", "fines"), "verdict"] == "single run"
    assert np.isnan(table.loc[("solo", "fines"), "diff_lo"])


def test_repeated_runs_count_once():
    rows = [("baseline", "reference", s, {"fines": float(s)}) for s in (0, 1, 2, 2)]
    rows += [("tight", "policy", s, {"fines": float(s) + 1}) for s in (0, 1, 2)]
    table = summary.effects(synthetic(rows), ["fines"])
    assert table.attrs["duplicates"] == 1
    assert table.set_index("group").loc["baseline", "n"] == 3
    assert table.set_index("group").loc["tight", "pairs"] == 3


def test_context_shocks_are_ranked_apart_and_kept_off_the_frontier(small_agg, tmp_path):
    table = figures.headline_table(small_agg)
    policies, context = summary.ranked_groups(table)
    assert policies == ["closed_channel"] and context == ["domestic_catch_up"]
    _, marks = figures.tradeoffs(small_agg, tmp_path / "t.png")
    assert "domestic_catch_up" not in set(marks["group"])


def test_the_summary_follows_the_registry(monkeypatch):
    assert summary.summary_metrics() == [k for k in HEADLINE if metric(k).better]
    monkeypatch.setattr(summary, "HEADLINE", ("fines", "suspensions", "violations"))
    # suspensions has no direction: left out; the ranking falls to the first with a direction
    assert summary.summary_metrics() == ["fines", "violations"]
    assert summary.rank_metric() == "fines"


def _texts(fig: Figure) -> list[str]:
    fig.canvas.draw()
    out = []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [ax.yaxis.get_offset_text().get_text(), ax.xaxis.get_offset_text().get_text()]
    return out


def test_figures_use_registry_labels_and_human_units(small_agg):
    bands = figures.path_bands(small_agg, figures.monthly_metrics())
    groups = list(dict.fromkeys(bands["group"]))
    with style.context():
        fig = figures.fan_figure(bands, figures.monthly_metrics(), groups, "month")
    texts = _texts(fig)
    titles = {ax.get_title().replace("\n", " ") for ax in fig.axes}
    for key in figures.monthly_metrics():
        assert style.label(key, monthly=True) in titles
    assert not any(t and ("e+" in t or t.startswith("1e")) for t in texts)  # no offset text
    money = [ax.get_ylabel() for ax in fig.axes if "revenue" in ax.get_title()]
    assert money and all("USD bn" in y or "USD M" in y for y in money)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert all("(n=3)" in t for t in legend)  # seeds in the legend, outside the panels
    table = figures.headline_table(small_agg)
    with style.context():
        texts = _texts(summary.summary_plot(table))
    for key in summary.summary_metrics():
        assert any(style.label(key) in t.replace("\n", " ") for t in texts), key


def test_more_than_six_groups_become_small_multiples():
    rows = []
    for g in range(8):
        for seed in range(2):
            rows.append(
                pd.DataFrame(
                    {
                        "month": range(5),
                        "fines": np.arange(5.0) * (g + 1),
                        "seed": seed,
                        "scenario": f"s{g}",
                        "run": f"s{g}/{seed}",
                    }
                )
            )
    runs = pd.DataFrame(
        {
            "run": [f"s{g}/{s}" for g in range(8) for s in range(2)],
            "status": "ok",
            "scenario": [f"s{g}" for g in range(8) for s in range(2)],
            "seed": [s for g in range(8) for s in range(2)],
            "fines": 1.0,
        }
    )
    agg = Aggregate.in_memory(runs, pd.concat(rows, ignore_index=True))
    assert style.small_multiples(8) and not style.small_multiples(6)
    bands = figures.path_bands(agg, ["fines"])
    with style.context():
        fig = figures.fan_small_multiples(
            bands, ["fines"], [f"s{g}" for g in range(8)], "s0", "month"
        )
    assert len(fig.axes) == 8


def test_controls_come_from_the_lever_list_and_the_plausible_ranges():
    from sim.policy import LEVERS

    keys = {c.key for c in policy_controls()}
    assert "us.rule_level" in keys and "intermediaries.azure.monitoring0" in keys
    assert all(any(k.split(".")[-1].startswith(lv.attr) for lv in LEVERS.values()) for k in keys)
    for c in policy_controls() + uncertainty_controls():
        if c.kind == "number":
            assert c.lo <= c.default <= c.hi, c.key
    assert {c.key for c in uncertainty_controls()} == set(plausible_ranges()) - lever_keys()


def test_sample_counts_are_written_in_thousands_millions_or_billions_not_e_notation():
    from sim.metrics import axis_scale
    from sim.sweep.summary import change_text

    assert change_text("harvested_samples", -4.78e7, -39.0) == "-47.8M (-39%)"
    assert axis_scale("samples", 5e7) == (1e6, "M samples")
    assert axis_scale("samples", 2e10) == (1e9, "bn samples")
    assert axis_scale("samples", 500.0) == (1.0, "samples")


def test_path_bands_read_only_the_columns_they_draw_from_the_stored_long_table(tmp_path):
    months, seeds = 4, 3
    series = pd.DataFrame(
        {
            "run": [f"baseline/{s}" for s in range(seeds) for _ in range(months)],
            "scenario": "baseline",
            "seed": [s for s in range(seeds) for _ in range(months)],
            "month": list(range(months)) * seeds,
            "fines": np.arange(months * seeds, dtype=float),
            "not_drawn": 1.0,
        }
    )
    stored = tmp_path / "timeseries.parquet"
    series.to_parquet(stored)
    runs = pd.DataFrame({"run": series["run"].unique(), "status": "ok", "scenario": "baseline"})
    agg = Aggregate(runs, [], timeseries_file=stored)
    bands = figures.path_bands(agg, ["fines"])
    assert agg._timeseries is None  # the whole table was never loaded
    assert list(bands["n"]) == [seeds] * months
    np.testing.assert_allclose(bands["mean"], [4.0, 5.0, 6.0, 7.0])
