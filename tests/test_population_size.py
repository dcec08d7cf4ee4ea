"""``customers.n`` counts the firms sharing a market of fixed size: why a larger population is
another market, and what keeps the calibrated one when a finer population is wanted.

The budgets are scaled to a fixed total (``customers.budget_total_musd``), while a
harvester's campaign (``distillation.campaign_samples``) and the approval threshold
(``customers.approval_min_budget_musd``) are absolute. With three times the firms, each firm
is a third the size: fewer clear the approval threshold, and three times as many harvesters
each run a full-size campaign, so the labs' pressure passes their tolerance and they withdraw,
and spend on foreign models collapses. Scaling the campaigns (and the threshold) by
``2000 / n`` keeps the calibrated regime (docs/model.md, limitation 17).
"""

from __future__ import annotations

from sim.config import as_config, compose
from sim.model import MarketModel

SEEDS = (0, 1)
CALIBRATED_N = 2000
N = 3 * CALIBRATED_N


def _totals(n: int, *overrides: str) -> list[tuple[float, int]]:
    """Per seed: spend on foreign models over the run (USD), and the labs' withdrawals."""
    out = []
    for seed in SEEDS:
        config = as_config(compose(overrides=[f"customers.n={n}", f"seed={seed}", *overrides]))
        records = MarketModel(config).run().records
        out.append(
            (
                sum(r["china_spend_foreign"] for r in records),
                sum(r["model_withdrawals"] for r in records),
            )
        )
    return out


def test_more_firms_in_the_same_market_make_the_labs_withdraw_through_campaign_volume():
    base = as_config(compose())
    scale = CALIBRATED_N / N
    calibrated = _totals(CALIBRATED_N)
    crowded = _totals(N)
    finer = _totals(
        N,
        f"distillation.campaign_samples={base.distillation.campaign_samples * scale}",
        f"customers.approval_min_budget_musd={base.customers.approval_min_budget_musd * scale}",
    )
    assert all(withdrawals == 0 for _, withdrawals in calibrated)
    assert all(withdrawals >= 1 for _, withdrawals in crowded)
    assert all(withdrawals == 0 for _, withdrawals in finer)
    for (spend, _), (crowded_spend, _), (finer_spend, _) in zip(
        calibrated, crowded, finer, strict=True
    ):
        assert crowded_spend < 0.2 * spend
        assert 0.7 * spend < finer_spend < 1.5 * spend
