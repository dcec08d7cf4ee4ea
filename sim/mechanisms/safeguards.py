"""The intermediary's safeguard choice: a bounded-rational hill climb on its objective.

The objective is the brief's: revenue after the developers' share, minus fines, minus the
cost of developer pressure (the revenue put at risk by a developer nearing withdrawal).
Divided by the customers' total budget that month, so that market growth and falling prices
do not read as the effect of a safeguard change.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def objective(
    net_revenue: float,
    fines: float,
    pressure_ratio: float,
    relationship_cost: float,
    budget: float,
) -> float:
    """``j = ((1 - s_dev) R - fines - c_rel * min(P / tol, 1) * (1 - s_dev) R) / B``."""
    if budget <= 0:
        return 0.0
    at_risk = relationship_cost * min(max(pressure_ratio, 0.0), 1.0) * net_revenue
    return (net_revenue - fines - at_risk) / budget


@dataclass
class HillClimb:
    """Perturb-and-observe over a few levers, one lever per move, judged against the trend.

    The objective drifts on its own (the market grows, prices fall, rules change), so a move
    is judged by the change it brought beyond that drift: after two periods at the same
    levels, ``trend = j_1 - j_0``; the next free lever (round robin) moves one step in its
    current direction (turning back at its bounds); the period after the move, ``j_2``, keeps
    the move if ``j_2 - j_1 >= trend`` and otherwise undoes it and reverses that lever's
    direction (the lever goes back to where it was, within its present bounds). Either way
    the levels then hold until two periods measure them afresh. A lever with no room to move
    is not moved; pinned levers never move; :meth:`forget` drops what was measured (a review
    skipped), so no move is judged against an objective from before the gap.
    """

    step: float
    directions: list[float] = field(default_factory=list)
    last_move: tuple[int, float] | None = None  # (lever, level before the move)
    steady: list[float] = field(default_factory=list)
    before: float = 0.0
    trend: float = 0.0
    turn: int = 0

    def review(
        self,
        levels: list[float],
        bounds: list[tuple[float, float]],
        pinned: list[bool],
        current: float,
    ) -> list[float]:
        """New lever levels after observing the objective ``current`` of the last period."""
        levels = list(levels)
        if not self.directions:
            self.directions = [1.0] * len(levels)
        if self.last_move is not None:
            lever, previous = self.last_move
            self.last_move = None
            if current - self.before < self.trend:
                if not pinned[lever]:
                    levels[lever] = _clip(previous, bounds[lever])
                self.directions[lever] = -self.directions[lever]
                self.steady = []
            else:
                self.steady = [current]
            return levels
        self.steady = [*self.steady[-1:], current]
        free = [i for i in range(len(levels)) if not pinned[i]]
        if len(self.steady) < 2 or not free:
            return levels
        lever = free[self.turn % len(free)]
        self.turn += 1
        lo, hi = bounds[lever]
        target = _clip(levels[lever] + self.directions[lever] * self.step, bounds[lever])
        if target == levels[lever] and hi > lo:
            self.directions[lever] = -self.directions[lever]
            target = _clip(levels[lever] + self.directions[lever] * self.step, bounds[lever])
        if target == levels[lever]:
            return levels  # no room: nothing to judge, keep measuring
        self.trend = self.steady[1] - self.steady[0]
        self.before = self.steady[1]
        self.steady = []
        self.last_move = (lever, levels[lever])
        levels[lever] = target
        return levels

    def forget(self) -> None:
        """Drop the pending move and the measurements (a review was skipped)."""
        self.last_move = None
        self.steady = []


def _clip(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])
