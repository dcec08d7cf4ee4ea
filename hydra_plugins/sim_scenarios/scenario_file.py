"""Reading one scenario file as plain data, before Hydra or OmegaConf sees any of it.

A scenario file is data, never code or a reference to the environment: this reader refuses
a file larger than :data:`MAX_FILE_BYTES`, bytes that are not UTF-8, YAML tags (``!!python/...``,
``!!binary``, any ``!tag``), anchors and aliases that would expand past :data:`MAX_NODES`
nodes (a "billion laughs" file is refused after one pass over its events, without expanding
anything), duplicate keys, several documents, and OmegaConf interpolations (``${...}``,
which could read environment variables or the clock). Numbers are read as OmegaConf reads
them (``1e6`` is a float), so a value means the same here as on the command line.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

#: Largest scenario file accepted; the library's files are 1-3 kB.
MAX_FILE_BYTES = 256 * 1024

#: Largest number of YAML nodes a file may hold once its aliases are expanded.
MAX_NODES = 100_000

#: A scenario name: a plain file stem, so a name can never leave its folder.
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


class ScenarioFileError(ValueError):
    """A scenario file refused; the message names the file and, where there is one, the key."""


def valid_name(name: object) -> bool:
    """True for a plain scenario name: letters, digits, ``_``, ``-`` and inner dots, no
    path separators, no ``..``, not absolute."""
    return isinstance(name, str) and NAME.fullmatch(name) is not None and ".." not in name


def read_text(file: Path) -> str:
    """The file's text, refused if too large or not UTF-8."""
    with open(file, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioFileError(
            f"Scenario file {file}: larger than the limit of {MAX_FILE_BYTES // 1024} KiB"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScenarioFileError(
            f"Scenario file {file}: not UTF-8 text (byte {e.start}: {data[e.start : e.start + 1]!r})"
        ) from None


def _check_events(text: str, file: Path) -> None:
    """One pass over the YAML events: no tags, and the alias expansion stays bounded."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[0, None]]
    documents = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        tag = getattr(event, "tag", None)
        where = f"line {event.start_mark.line + 1}"
        if tag is not None and not isinstance(event, yaml.DocumentStartEvent):
            raise ScenarioFileError(
                f"Scenario file {file}, {where}: YAML tag {tag!r} not allowed (plain data only)"
            )
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise ScenarioFileError(f"Scenario file {file}, {where}: one YAML document only")
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in sizes:
                raise ScenarioFileError(f"Scenario file {file}, {where}: unknown alias")
            stack[-1][0] += sizes[event.anchor]
        elif isinstance(event, yaml.ScalarEvent):
            stack[-1][0] += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            stack.append([1, event.anchor])
        elif isinstance(event, yaml.CollectionEndEvent):
            count, anchor = stack.pop()
            if anchor:
                sizes[anchor] = count
            stack[-1][0] += count
        if stack[0][0] + sum(frame[0] for frame in stack[1:]) > MAX_NODES:
            raise ScenarioFileError(
                f"Scenario file {file}, {where}: more than {MAX_NODES:,} values once its "
                "aliases are expanded"
            )


def _check_values(value: Any, key: str, file: Path) -> None:
    """Only text keys, finite numbers and no interpolation in any string."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ScenarioFileError(
                    f"Scenario file {file}: key {k!r} under {key or 'the top level'!r} is not text"
                )
            _check_values(v, f"{key}.{k}" if key else k, file)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_values(v, f"{key}.{i}", file)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ScenarioFileError(
            f"Scenario file {file}: key '{key}' = {value}: numbers must be finite"
        )
    elif isinstance(value, str) and "${" in value:
        raise ScenarioFileError(
            f"Scenario file {file}: key '{key}' = {value!r}: interpolations (${{...}}) are not "
            "allowed in scenario files; write the value itself"
        )


def parse(text: str, file: Path, loader: type | None = None) -> dict[str, Any] | None:
    """The file's content as plain Python data (None for an empty file), or a refusal.

    ``loader`` defaults to OmegaConf's YAML loader (numbers as the command line reads them,
    duplicate keys refused); ``--help``, which reads only descriptions and must not import
    OmegaConf, passes PyYAML's safe loader after the same checks.
    """
    if loader is None:
        from omegaconf._utils import get_yaml_loader

        loader = get_yaml_loader()
    try:
        _check_events(text, file)
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as e:
        raise ScenarioFileError(f"Scenario file {file} is not valid YAML: {e}") from None
    if data is not None and not isinstance(data, dict):
        raise ScenarioFileError(
            f"Scenario file {file}: needs a top-level 'scenario:' block with name, description "
            "and events (see scenarios/baseline.yaml)"
        )
    _check_values(data or {}, "", file)
    return data


def read(file: Path, loader: type | None = None) -> dict[str, Any] | None:
    """Read and parse one scenario file (see the module doc for what is refused)."""
    return parse(read_text(Path(file)), Path(file), loader)
