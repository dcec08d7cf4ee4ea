"""Folder names that say what a run changed, and the config resolvers that build them.

``outputs/DATE/TIME_SCENARIO`` for an unmodified run; ``TIME_SCENARIO_seed=7,horizon=120``
when overrides changed something. Long override lists are cut and end in a short hash of
the full list, so two different runs never share a name and no name is unreadably long.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_OVERRIDES_CHARS = 80
UNSAFE = re.compile(r"[^A-Za-z0-9._=,+\-\[\]]")
IGNORED_PREFIXES = ("hydra.", "hydra/", "output.")
IGNORED_KEYS = ("scenario",)


def changed_overrides(overrides: Iterable[str]) -> str:
    """The overrides that change the model, as one filesystem-safe, bounded string."""
    items = []
    for item in overrides:
        key = str(item).split("=", 1)[0].lstrip("+~")
        if key in IGNORED_KEYS or key.startswith(IGNORED_PREFIXES):
            continue
        items.append(str(item).lstrip("+"))
    text = UNSAFE.sub("_", ",".join(items))
    if len(text) <= MAX_OVERRIDES_CHARS:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{text[: MAX_OVERRIDES_CHARS - 10]}..{digest}"


def run_folder_name(time: str, scenario: str, overrides: Iterable[str]) -> str:
    """``TIME_SCENARIO`` plus ``_OVERRIDES`` when any override changed the model."""
    changed = changed_overrides(overrides)
    base = f"{time}_{UNSAFE.sub('_', str(scenario))}"
    return f"{base}_{changed}" if changed else base


def _help() -> str:
    from sim.cli_help import help_text

    return help_text()


def register_resolvers() -> None:
    """Register ``sim_run_name`` and ``sim_help`` with OmegaConf (idempotent)."""
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("sim_run_name"):
        OmegaConf.register_new_resolver(
            "sim_run_name",
            lambda time, scenario, overrides: run_folder_name(time, scenario, overrides),
        )
    if not OmegaConf.has_resolver("sim_help"):
        OmegaConf.register_new_resolver("sim_help", _help)
