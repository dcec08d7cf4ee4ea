"""Hydra's basic sweep, with the replications of one config run by one job.

``python -m sim -m scenario=a,b seed='range(1000)'`` is the cartesian product Hydra's basic
sweeper would launch, but the seeds of each config are split into jobs of
``hydra.sweeper.seeds_per_job`` seeds (0: chosen from the sweep's size and the machine's
cores). A job composes and validates its config once and runs its seeds one after another,
each into its own ``seed=N`` folder (see :func:`sim.sweep.jobs.run_replications`); the
numbers are those of single runs of the same config and seed.

Before it creates or writes anything, the sweeper checks its own settings (and the
launcher's ``n_jobs``), refuses an empty sweep, and composes each distinct config once
(catching composition errors before any job starts, as the basic sweeper does): a refusal is
one message and exit status 2, like a refused single run, and leaves no folder behind. Only
then does it take the sweep folder's lock (:func:`sim.sweep.callbacks.open_sweep_folder`).
It leaves out every seed whose folder already holds a finished run of the same config and
code version with its results intact, so resuming a finished sweep launches nothing.
``hydra.sweeper.max_batch_size`` launches the jobs in batches. A full disk or unwritable
folder stops the sweep with one message; finished runs stay and the same command resumes it.

With ``hydra.sweeper.samples=N`` (set by ``+uncertainty=lhs``) every config runs once per
Latin-hypercube sample of the uncertain parameters, each sample with the same seeds (see
:mod:`hydra_plugins.sim_uncertainty.lhs_sweeper`).
"""

import itertools
import logging
import math
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional  # noqa: UP035 - OmegaConf reads these

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import CompactHydraException, HydraException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim.naming import register_resolvers

log = logging.getLogger(__name__)

SEED_KEY = "seed"
SEED_SUBDIR_SUFFIX = "seed=${seed}"
MAX_AUTO_SEEDS_PER_JOB = 50
JOBS_PER_CORE = 8
INTEGER = re.compile(r"^-?\d+$")


@dataclass
class ReplicatingSweeperConf:
    """Config of :class:`ReplicatingSweeper` (``hydra.sweeper``)."""

    _target_: str = "hydra_plugins.sim_sweeper.replicating_sweeper.ReplicatingSweeper"
    max_batch_size: Optional[int] = None  # noqa: UP045
    params: Optional[Dict[str, str]] = None  # noqa: UP006, UP045
    # Seeds run by one job; 0 picks a size from the sweep and the machine's cores.
    seeds_per_job: int = 0
    # Set by the sweeper for each job: the seeds that job runs (not for users).
    job_seeds: Optional[List[int]] = None  # noqa: UP006, UP045
    # Latin-hypercube samples of the uncertain parameters per config (0: none; at least 2),
    # the sample's seed and the parameters sampled (default: every one with a plausible range).
    samples: int = 0
    sample_seed: int = 0
    factors: Optional[List[str]] = None  # noqa: UP006, UP045


ConfigStore.instance().store(
    group="hydra/sweeper", name="sim", node=ReplicatingSweeperConf, provider="china-channel-sim"
)
register_resolvers()


class SweepStorageError(CompactHydraException):
    """The sweep could not write its results; printed by Hydra as one message, exit 1."""


def auto_seeds_per_job(runs: int, cores: int | None = None) -> int:
    """Seeds per job when not set: enough jobs to keep every core busy to the end
    (``JOBS_PER_CORE`` per core), at most ``MAX_AUTO_SEEDS_PER_JOB`` seeds per job."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(MAX_AUTO_SEEDS_PER_JOB, math.ceil(runs / (JOBS_PER_CORE * cores))))


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """``items`` in consecutive pieces of at most ``size`` (at least 1)."""
    if size < 1:
        raise ValueError(f"chunks of {size} items: the size must be at least 1")
    return [items[i : i + size] for i in range(0, len(items), size)]


def counted(number: int, noun: str) -> str:
    """``1 job``, ``3 jobs``: a count and its noun, plural unless the count is one."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def setting_problems(sweeper: dict[str, Any], launcher: DictConfig | None) -> list[str]:
    """What is wrong with the sweeper's settings (``hydra.sweeper.*``, given as a dict) and
    the launcher's ``n_jobs``: one sentence per problem naming the key, the value and what
    is allowed; empty when all is well."""
    problems = []
    seeds_per_job = sweeper.get("seeds_per_job", 0)
    if seeds_per_job < 0:
        problems.append(
            f"hydra.sweeper.seeds_per_job = {seeds_per_job}: allowed a number of seeds per job "
            ">= 1, or 0 to choose it from the sweep's size and the machine's cores"
        )
    batch = sweeper.get("max_batch_size")
    if batch is not None and batch != -1 and batch < 1:
        problems.append(
            f"hydra.sweeper.max_batch_size = {batch}: allowed a number of jobs per batch >= 1, "
            "or -1 (or null) to launch every job in one batch"
        )
    samples = sweeper.get("samples", 0)
    if samples < 0 or samples == 1:
        problems.append(f"hydra.sweeper.samples = {samples}: 0 (no sampling) or at least 2 samples")
    sample_seed = sweeper.get("sample_seed", 0)
    if sample_seed < 0:
        problems.append(f"hydra.sweeper.sample_seed = {sample_seed}: allowed a whole number >= 0")
    if sweeper.get("job_seeds") is not None:
        problems.append(
            f"hydra.sweeper.job_seeds = {list(sweeper['job_seeds'])}: set by the sweeper for "
            "each job, not by users; leave it out and choose the seeds with seed=... "
            "(for example seed='range(10)')"
        )
    n_jobs = OmegaConf.select(launcher, "n_jobs") if launcher is not None else None
    if n_jobs == 0:
        problems.append(
            "hydra.launcher.n_jobs = 0: allowed a number of parallel workers >= 1, -1 for "
            "every core, or -N for every core but N-1 (as joblib counts)"
        )
    return problems


def error_text(error: BaseException | None) -> str:
    """An exception's message followed by its causes' (Hydra keeps the reason a value was
    refused in the cause), without the config search path Hydra appends."""
    parts: list[str] = []
    while error is not None:
        text = str(error).split("\nConfig search path:")[0].strip()
        if text and text not in parts:
            parts.append(text)
        error = error.__cause__
    return "\n".join(parts)


@dataclass
class Plan:
    """The jobs a sweep launches (each a list of overrides) and its sizes, for the log."""

    jobs: list[list[str]]
    runs: int
    configs: int
    seeds: int
    skipped: int
    seeds_per_job: list[int]
    samples: tuple[list[str], list[dict[str, Any]]] | None = None

    def text(self) -> str:
        """``Sweep of 100 runs (20 configs x 5 seeds): 0 already finished, 20 jobs of 5
        seeds to launch`` (``of up to N seeds`` when the jobs differ in size)."""
        sizes = sorted(set(self.seeds_per_job))
        per_job = ""
        if sizes:
            upto = "up to " if len(sizes) > 1 else ""
            per_job = f" of {upto}{counted(sizes[-1], 'seed')}"
        return (
            f"Sweep of {counted(self.runs, 'run')} ({counted(self.configs, 'config')} x "
            f"{counted(self.seeds, 'seed')}): {self.skipped} already finished, "
            f"{counted(len(self.jobs), 'job')}{per_job} to launch"
        )


class ReplicatingSweeper(BasicSweeper):
    """Cartesian sweep whose jobs each run several seeds of one config (see module doc)."""

    def __init__(
        self,
        max_batch_size: int | None = None,
        params: dict[str, str] | None = None,
        seeds_per_job: int = 0,
        job_seeds: list[int] | None = None,
        samples: int = 0,
        sample_seed: int = 0,
        factors: list[str] | None = None,
    ) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        # Checked by plan() (with the launcher's settings), so a refusal leaves nothing behind.
        self.seeds_per_job = seeds_per_job
        self.job_seeds = job_seeds
        self.samples = samples
        self.sample_seed = sample_seed
        self.factors = list(factors) if factors else None
        self.skipped_runs = 0

    # ------------------------------------------------------------------ the sweep

    def sweep(self, arguments: list[str]) -> Any:
        """Check and plan the whole sweep (refusing bad input before anything exists), then
        open its folder, leave out finished runs and launch the rest in batches."""
        from sim.sweep.callbacks import open_sweep_folder, stop
        from sim.validate import ConfigError

        assert self.config is not None and self.launcher is not None
        try:
            plan = self.plan(arguments)
        except ConfigError as e:
            stop(str(e), status=2)  # nothing created or written yet, as for a refused run

        open_sweep_folder(Path(self.config.hydra.sweep.dir))
        try:
            return self._launch(plan)
        except OSError as e:
            from sim.results import is_storage_error

            if not is_storage_error(e):
                raise
            raise SweepStorageError(self._storage_message(e)) from None

    def plan(self, arguments: list[str]) -> Plan:
        """The sweep's jobs, its finished runs left out; raises
        :class:`~sim.validate.ConfigError` for bad settings, an empty sweep or a config that
        cannot be composed. Reads run folders, writes nothing."""
        from sim.validate import ConfigError

        assert self.config is not None
        settings = {
            "seeds_per_job": self.seeds_per_job,
            "max_batch_size": self.max_batch_size,
            "samples": self.samples,
            "sample_seed": self.sample_seed,
            "job_seeds": self.job_seeds,
        }
        problems = setting_problems(settings, self.config.hydra.get("launcher"))
        if problems:
            raise ConfigError("Invalid sweep settings:\n  - " + "\n  - ".join(problems))
        axes, seeds = self._axes(arguments)
        batching = seeds is not None and self._subdir_names_seed()
        samples = self._draws()
        configs = self.configs(axes, samples)
        runs = len(configs) * (len(seeds) if seeds else 1)
        size = self.seeds_per_job or auto_seeds_per_job(runs)
        if not batching:
            size = 1
        jobs: list[tuple[list[str], int]] = []
        for combo in configs:
            jobs.extend(self._jobs(combo, seeds, size, batching))
        return Plan(
            jobs=[overrides for overrides, _ in jobs],
            runs=runs,
            configs=len(configs),
            seeds=len(seeds) if seeds else 1,
            skipped=self.skipped_runs,
            seeds_per_job=[n for _, n in jobs],
            samples=samples,
        )

    def _launch(self, plan: Plan) -> Any:
        """Record the sweep's config (and samples), then launch the planned jobs."""
        from hydra_plugins.sim_uncertainty.lhs_sweeper import write_samples
        from sim.results import atomic_write, is_storage_error

        assert self.config is not None and self.launcher is not None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        atomic_write(sweep_dir / "multirun.yaml", lambda tmp: OmegaConf.save(self.config, tmp))
        if plan.samples is not None:
            write_samples(sweep_dir, *plan.samples)
        log.info("%s", plan.text())
        jobs = plan.jobs
        self.overrides = (
            [jobs] if self.max_batch_size in (None, -1) else chunks(jobs, self.max_batch_size)
        )
        returns = []
        first = 0
        while jobs and not self.is_done():
            batch = self.get_job_batch()
            results = self.launcher.launch(batch, initial_job_idx=first)
            for r in results:
                escaped = getattr(r, "_return_value", None)
                if isinstance(escaped, OSError) and is_storage_error(escaped):
                    raise escaped
                _ = r.return_value  # re-raises anything else that escaped a job
            first += len(batch)
            returns.append(results)
        return returns

    def _axes(self, arguments: list[str]) -> tuple[OrderedDict[str, list[str]], list[int] | None]:
        """Every override as its list of ``key=value`` strings, and the seeds apart (None when
        the seed is not swept as integers)."""
        from sim.validate import ConfigError

        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        axes: OrderedDict[str, list[str]] = OrderedDict()
        for override in parser.parse_overrides(self._parse_config() + list(arguments)):
            key = override.get_key_element()
            if override.is_sweep_override():
                if not override.is_discrete_sweep():
                    kind = override.value_type.name if override.value_type else "?"
                    raise ConfigError(
                        f"{override.input_line}: the sweeper does not support sweep type "
                        f"{kind}; allowed a list of values (a,b,c), range(...) or choice(...)"
                    )
                values = list(override.sweep_string_iterator())
                if not values:
                    raise ConfigError(
                        f"{override.input_line}: an empty sweep, {key} has no values; give it "
                        f"at least one (for example {key}=0,1 or {key}='range(5)')"
                    )
            else:
                values = [override.get_value_element_as_str()]
            axes[key] = [f"{key}={v}" for v in values]
        seed_items = axes.get(SEED_KEY)
        if seed_items is None:
            return axes, None
        values = [item.split("=", 1)[1] for item in seed_items]
        if not all(INTEGER.match(v) for v in values) or len(set(values)) != len(values):
            return axes, None  # left to Hydra and validation, one job per value
        del axes[SEED_KEY]
        return axes, [int(v) for v in values]

    def _draws(self) -> tuple[list[str], list[dict[str, Any]]] | None:
        """The Latin-hypercube sample's keys and draws (None without ``samples``); an
        unknown factor is refused naming ``hydra.sweeper.factors``."""
        if not self.samples:
            return None
        from hydra_plugins.sim_uncertainty.lhs_sweeper import draws
        from sim.validate import ConfigError

        try:
            return draws(self.samples, self.sample_seed, self.factors)
        except ConfigError as e:
            raise ConfigError(f"hydra.sweeper.factors = {self.factors}: {e}") from None

    def configs(
        self,
        axes: OrderedDict[str, list[str]],
        samples: tuple[list[str], list[dict[str, Any]]] | None = None,
    ) -> list[list[str]]:
        """The distinct configs of the sweep as lists of overrides (seeds apart): the
        cartesian product of the swept keys, once per Latin-hypercube sample if given."""
        configs = [list(c) for c in itertools.product(*axes.values())]
        if samples is None:
            return configs
        from hydra_plugins.sim_uncertainty.lhs_sweeper import sample_configs

        assert self.config is not None
        return sample_configs(self.config, configs, *samples)

    def _subdir_names_seed(self) -> bool:
        """True when the job folder ends in ``seed=${seed}`` (replications are its siblings)."""
        assert self.config is not None
        raw = OmegaConf.to_container(self.config.hydra.sweep, resolve=False).get("subdir")
        if isinstance(raw, str) and raw.rstrip("/").endswith(SEED_SUBDIR_SUFFIX):
            return True
        log.warning(
            "hydra.sweep.subdir = %r does not end in %s: one job per seed", raw, SEED_SUBDIR_SUFFIX
        )
        return False

    def _jobs(
        self, combo: list[str], seeds: list[int] | None, size: int, batching: bool
    ) -> list[tuple[list[str], int]]:
        """The jobs of one config, each with its number of seeds: its unfinished seeds in
        chunks of ``size``."""
        if seeds is None:
            return [(combo, 1)] if self._unfinished(combo, [None], batching) else []
        pending = self._unfinished(combo, seeds, batching)
        if not batching:
            return [([*combo, f"{SEED_KEY}={n}"], 1) for n in pending]
        return [
            (
                [
                    *combo,
                    f"{SEED_KEY}={chunk[0]}",
                    f"hydra.sweeper.job_seeds=[{','.join(map(str, chunk))}]",
                ],
                len(chunk),
            )
            for chunk in chunks(pending, size)
        ]

    def _unfinished(self, combo: list[str], seeds: list[Any], batching: bool) -> list[Any]:
        """Compose the config once (a config Hydra cannot compose is refused now, as
        :class:`~sim.validate.ConfigError`) and drop the seeds already finished.

        ``None`` stands for the config's own seed. Without batching the seeds' folders are
        not known here; each job then checks its own folder.
        """
        from sim.config import as_config
        from sim.sweep.jobs import SEED_FOLDER, already_done, code_version, config_hashes
        from sim.validate import ConfigError

        assert self.hydra_context is not None and self.config is not None
        first = seeds[0]
        overrides = combo if first is None else [*combo, f"{SEED_KEY}={first}"]
        try:
            cfg = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        except (HydraException, OmegaConfBaseException) as e:
            shown = " ".join(o for o in overrides if not o.startswith("hydra."))
            raise ConfigError(
                f"cannot compose the sweep's config {shown}: {error_text(e)}"
            ) from None
        if first is not None and not batching:
            return list(seeds)
        try:
            job_dir = Path(str(cfg.hydra.sweep.dir)) / str(cfg.hydra.sweep.subdir)
        except OmegaConfBaseException:  # a folder named by the job (hydra.job.num): it checks
            return list(seeds)
        if not job_dir.parent.is_dir():
            return list(seeds)
        task = cfg.copy()
        with open_dict(task):
            del task["hydra"]
        try:
            config = as_config(task)
        except ConfigError:
            return list(seeds)  # each job records its refusal
        real = [config.seed if n is None else n for n in seeds]
        digests = config_hashes(config, real)
        version = code_version()
        pending = []
        for n, seed in zip(seeds, real, strict=True):
            folder = job_dir if n is None else job_dir.parent / SEED_FOLDER.format(seed=seed)
            if already_done(folder, digests[seed], version):
                self.skipped_runs += 1
            else:
                pending.append(n)
        return pending

    def _storage_message(self, error: OSError) -> str:
        assert self.config is not None
        where = getattr(error, "filename", None) or self.config.hydra.sweep.dir
        reason = error.strerror or str(error)
        return (
            f"Sweep stopped: cannot write {where}: {reason}.\n"
            f"Runs that finished are intact in {self.config.hydra.sweep.dir}; nothing "
            "half-written was left as a result. Free space (or make the folder writable) "
            "and run the same command again: finished runs are skipped."
        )


def job_seeds(hydra_cfg: DictConfig) -> list[int] | None:
    """The seeds this sweep job runs (``hydra.sweeper.job_seeds``), None outside this sweeper."""
    seeds = OmegaConf.select(hydra_cfg, "sweeper.job_seeds", default=None)
    return [int(s) for s in seeds] if seeds else None
