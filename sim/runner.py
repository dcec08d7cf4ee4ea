"""One run from config to results: simulate, then (only when asked) write files and plots."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.metrics import summarise
from sim.model import MarketModel
from sim.progress import progress_bar
from sim.results import parquet_available, write_json, write_table
from sim.schema import Config

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run produced: the headline summary, the monthly time series, the customers."""

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    customers: pd.DataFrame
    config: Config
    model: MarketModel = field(repr=False)
    files: dict[str, Path] = field(default_factory=dict)


def customers_table(model: MarketModel) -> pd.DataFrame:
    """Final state of every Chinese customer agent, one row each."""
    import pandas as pd

    pop = model.population
    last = model.month - 1
    inter_keys = list(model.intermediaries)
    return pd.DataFrame(
        {
            "id": model.customer_ids,
            "index": range(pop.size),
            "sector": [pop.sector_names[s] for s in pop.sector],
            "intermediary": [inter_keys[i] for i in pop.intermediary],
            "budget_usd": pop.budget0 * model.budget_factor,
            "budget0_usd": pop.budget0,
            "capability_inhouse": pop.capability,
            "capability_inhouse0": pop.capability0,
            "capability_own_path": pop.own,
            "leaked_capability": pop.capability - pop.own,
            "narrow_gap_closed": pop.narrow,
            "samples_harvested": pop.samples,
            "samples_received": pop.received,
            "distillation_intent": pop.intent,
            "listing_score": pop.listing,
            "spend_foreign_direct_usd": pop.spend_total[:, 0],
            "spend_reseller_usd": pop.spend_total[:, 1],
            "spend_domestic_usd": pop.spend_total[:, 2],
            "spend_inhouse_usd": pop.spend_total[:, 3],
            "approved": pop.approved,
            "restricted": pop.restricted,
            "suspended": pop.suspended_until > last,
            "terminated": pop.terminated,
            "offences": pop.offences,
            "extracts_via_proxies": pop.on_proxies,
            "detections": pop.detected_count,
            "suspensions": pop.suspension_count,
        }
    )


def simulate(config: Config, progress: bool = False) -> RunResult:
    """Build the model from a validated config and run it to the horizon, in memory."""
    model = MarketModel(config)
    months = range(model.horizon)
    bar = (
        progress_bar(months, desc=config.scenario.name, unit="month", leave=False)
        if progress
        else None
    )
    for _ in months if bar is None else bar:
        model.step()
    summary = {
        "scenario": config.scenario.name,
        "scenario_kind": config.scenario.kind,
        "seed": config.seed,
        "horizon": config.horizon,
        "customers_n": config.customers.n,
        **summarise(model.records),
    }
    timeseries = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    return RunResult(summary, timeseries, customers_table(model), config, model)


def plots_wanted(config: Config, sweep: bool) -> bool:
    """Whether a run draws its figures: ``output.plots`` if set, else on alone and off in sweeps."""
    return config.output.plots if config.output.plots is not None else not sweep


def write_results(result: RunResult, out_dir: Path, plots: bool = True) -> dict[str, Path]:
    """Write timeseries.csv, customers.(csv|parquet), plots/ and, last, summary.json.

    ``summary.json`` is written last, so its presence marks a complete run.
    """
    out_dir = Path(out_dir)
    files: dict[str, Path] = {}
    files["timeseries"] = write_table(out_dir / "timeseries.csv", result.timeseries)
    fmt = result.config.output.customers_format
    if fmt == "auto":
        fmt = "parquet" if parquet_available() else "csv"
    files["customers"] = write_table(out_dir / f"customers.{fmt}", result.customers, fmt)
    if plots:
        from sim.plots import plot_run

        files.update(plot_run(result, out_dir / "plots"))
    files["summary"] = write_json(out_dir / "summary.json", result.summary)
    result.files = files
    return files
