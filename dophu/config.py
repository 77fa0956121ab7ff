"""The plan and the sources as configuration: pydantic models and YAML/CSV loading.

A wrong file is reported as one line naming the file, the line and the field
(``plan.yaml:42: anniversaries[3].date: not a date``), so that the person who
edited it can fix it without reading a traceback.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dophu.models import SourceKind
from dophu.text import normalize_text

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_INTERVAL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ConfigError(ValueError):
    """A configuration file is wrong; ``str()`` is the one-line message for the user."""

    def __init__(self, path: str | Path, line: int | None, field: str, message: str):
        self.path, self.line, self.field, self.message = str(path), line, field, message
        where = f"{Path(path).name}:{line}" if line else Path(path).name
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _nfc(value: Any) -> Any:
    return normalize_text(value, multiline=False) if isinstance(value, str) else value


class Theme(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    ref: str = ""
    major: bool = False
    description: str = ""
    phrases: list[str] = Field(default_factory=list)
    negative: list[str] = Field(default_factory=list)

    _norm = field_validator("name", "description", mode="before")(_nfc)

    @field_validator("phrases", "negative", mode="before")
    @classmethod
    def _norm_list(cls, value: Any) -> Any:
        return [_nfc(v) for v in value] if isinstance(value, list) else value


class Window(_Model):
    before: int = Field(default=30, ge=0, le=366)
    after: int = Field(default=7, ge=0, le=366)


class Anniversary(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    event_date: date
    date: date
    window: Window = Field(default_factory=Window)
    phrases: list[str] = Field(default_factory=list)
    negative: list[str] = Field(default_factory=list)

    _norm = field_validator("name", mode="before")(_nfc)

    @field_validator("phrases", "negative", mode="before")
    @classmethod
    def _norm_list(cls, value: Any) -> Any:
        return [_nfc(v) for v in value] if isinstance(value, list) else value

    @property
    def window_start(self) -> date:
        return self.date - timedelta(days=self.window.before)

    @property
    def window_end(self) -> date:
        return self.date + timedelta(days=self.window.after)

    def in_window(self, day: date) -> bool:
        return self.window_start <= day <= self.window_end


class Phase(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


UnitGroup = Literal[
    "press", "broadcaster", "party", "government", "department", "front", "mass-organization",
    "district", "ward", "reference",
]


class Unit(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    group: UnitGroup
    ref: str = ""
    responsible: bool = True

    _norm = field_validator("name", mode="before")(_nfc)


class Plan(_Model):
    """A communication plan: what must be covered, when, and by whom."""

    id: str = Field(pattern=ID_PATTERN)
    name: str
    issuer: str = ""
    reference: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    themes: list[Theme]
    anniversaries: list[Anniversary] = Field(default_factory=list)
    phases: list[Phase] = Field(default_factory=list)
    units: list[Unit]
    negative_contexts: list[str] = Field(default_factory=list)

    _norm = field_validator("name", "issuer", mode="before")(_nfc)

    @model_validator(mode="after")
    def _unique_ids(self) -> Plan:
        for field in ("themes", "anniversaries", "phases", "units"):
            seen: set[str] = set()
            for entry in getattr(self, field):
                if entry.id in seen:
                    raise ValueError(f"duplicate {field} id {entry.id!r}")
                seen.add(entry.id)
        return self

    @property
    def major_themes(self) -> list[Theme]:
        return [t for t in self.themes if t.major]

    def theme(self, theme_id: str) -> Theme | None:
        return next((t for t in self.themes if t.id == theme_id), None)

    def anniversary(self, anniversary_id: str) -> Anniversary | None:
        return next((a for a in self.anniversaries if a.id == anniversary_id), None)

    def unit(self, unit_id: str) -> Unit | None:
        return next((u for u in self.units if u.id == unit_id), None)

    def phase_on(self, day: date) -> Phase | None:
        return next((p for p in self.phases if p.start <= day <= p.end), None)

    def label_ids(self, kind: str) -> list[str]:
        return [x.id for x in (self.themes if kind == "theme" else self.anniversaries)]

    def label_name(self, kind: str, label_id: str) -> str:
        """A theme's or anniversary's name (its id when the plan has no such label)."""
        entry = self.theme(label_id) if kind == "theme" else self.anniversary(label_id)
        return entry.name if entry else label_id


def parse_interval(value: str | int) -> int:
    """"30m" → 1800 seconds."""
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("interval must be positive")
        return value
    match = _INTERVAL.match(str(value))
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"not an interval like 30m, 2h, 1d: {value!r}")
    return int(match.group(1)) * _INTERVAL_UNITS[match.group(2)]


def _check_url(value: str) -> str:
    value = value.strip()
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


class Source(_Model):
    """A place a unit publishes: a site, a channel, an exported social page."""

    id: str = Field(pattern=ID_PATTERN)
    name: str
    unit: str = Field(pattern=ID_PATTERN)
    kind: SourceKind
    home: str | None = None
    feeds: list[str] = Field(default_factory=list)
    sitemaps: list[str] = Field(default_factory=list)
    listings: list[str] = Field(default_factory=list)
    interval: str = "30m"
    enabled: bool = True

    _norm = field_validator("name", mode="before")(_nfc)

    @field_validator("home")
    @classmethod
    def _home_url(cls, value: str | None) -> str | None:
        return _check_url(value) if value else None

    @field_validator("feeds", "sitemaps", "listings")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        return [_check_url(v) for v in value]

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> str:
        parse_interval(value)
        return str(value).strip()

    @property
    def interval_seconds(self) -> int:
        return parse_interval(self.interval)

    @property
    def crawlable(self) -> bool:
        return bool(self.home or self.feeds or self.sitemaps or self.listings)


class SourcesFile(_Model):
    sources: list[Source] = Field(default_factory=list)


# ---------------------------------------------------------------- YAML with lines


def _node_line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The line (1-based) of the deepest YAML node on the path ``loc``."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
              and 0 <= part < len(node.value)):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = child.start_mark.line + 1
    return line


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "model-")):
            out += ("." if out else "") + str(part)
    return out


_FRIENDLY = {
    "date_from_datetime_parsing": "not a date",
    "date_parsing": "not a date",
    "date_type": "not a date",
    "date_from_datetime_inexact": "not a date",
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
    "string_pattern_mismatch": "not a valid id (lower-case letters, digits and '-')",
    "bool_parsing": "not true/false",
    "bool_type": "not true/false",
    "int_parsing": "not a whole number",
    "literal_error": None,
}


def _friendly(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    message = _FRIENDLY.get(kind)
    if message:
        return message
    text = str(error.get("msg", "invalid"))
    return text.removeprefix("Value error, ")


class _PlainLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that leaves dates as text, so that pydantic (not YAML) judges them and
    a wrong date is reported with its file, line and field like any other error. LibYAML's
    parser when PyYAML has it: the plan file loads in 10 ms instead of 100."""


_PlainLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "", "file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, "", f"not UTF-8 text ({exc.reason})") from None
    try:
        data = yaml.load(raw, Loader=_PlainLoader)  # noqa: S506 - a SafeLoader subclass
        root = yaml.compose(raw, Loader=_PlainLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(path, line, "", f"not valid YAML: {exc.problem}") from None
    return data, root


def _validate(model: type[BaseModel], data: Any, path: Path, root: yaml.Node | None) -> Any:
    if not isinstance(data, dict):
        found = type(data).__name__
        raise ConfigError(path, 1, "", f"expected a mapping at the top, found {found}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        raise ConfigError(path, _node_line(root, loc), _field_path(loc), _friendly(error)) from None


def load_plan(path: str | Path) -> Plan:
    path = Path(path)
    data, root = _load_yaml(path)
    plan = _validate(Plan, data, path, root)
    return plan


def find_plan_file(config_dir: str | Path) -> Path:
    """The active plan: ``config/plan.yaml`` if present, else the one file in ``config/plans/``."""
    config_dir = Path(config_dir)
    direct = config_dir / "plan.yaml"
    if direct.exists():
        return direct
    plans = sorted((config_dir / "plans").glob("*.yaml"))
    if len(plans) == 1:
        return plans[0]
    if not plans:
        raise ConfigError(config_dir / "plans", None, "", "no plan file (*.yaml) found")
    active = config_dir / "active_plan"
    if active.exists():
        name = active.read_text(encoding="utf-8").strip()
        chosen = config_dir / "plans" / name
        if chosen.exists():
            return chosen
        raise ConfigError(active, 1, "", f"names a plan that does not exist: {name!r}")
    names = ", ".join(p.name for p in plans)
    raise ConfigError(
        config_dir / "plans", None, "", f"several plans ({names}); name one in config/active_plan"
    )


def check_sources_against_plan(sources: list[Source], plan: Plan, path: Path,
                               root: yaml.Node | None = None) -> None:
    units = {u.id for u in plan.units}
    seen: dict[str, int] = {}
    for index, source in enumerate(sources):
        if source.id in seen:
            raise ConfigError(path, _node_line(root, ("sources", index, "id")),
                              f"sources[{index}].id", f"duplicate id {source.id!r}")
        seen[source.id] = index
        if source.unit not in units:
            raise ConfigError(path, _node_line(root, ("sources", index, "unit")),
                              f"sources[{index}].unit",
                              f"unknown unit {source.unit!r} (not in plan {plan.id!r})")


def load_sources(path: str | Path, plan: Plan) -> list[Source]:
    path = Path(path)
    if not path.exists():
        return []
    data, root = _load_yaml(path)
    if data is None:
        return []
    parsed: SourcesFile = _validate(SourcesFile, data, path, root)
    check_sources_against_plan(parsed.sources, plan, path, root)
    return list(parsed.sources)


def dump_sources(path: str | Path, sources: list[Source]) -> None:
    """Write sources.yaml atomically (a temp file renamed over the old one)."""
    path = Path(path)
    payload = {"sources": [s.model_dump(exclude_defaults=False) for s in sources]}
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(payload, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(path)


SOURCE_CSV_FIELDS = ["id", "name", "unit", "kind", "home", "feeds", "sitemaps", "listings",
                     "interval", "enabled"]


class CsvRowError(BaseModel):
    row: int
    error: str


def parse_sources_csv(text: str, plan: Plan, path: str | Path = "sources.csv"
                      ) -> tuple[list[Source], list[CsvRowError]]:
    """Rows of a spreadsheet export → sources; list fields are separated by spaces or '|'."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        return [], [CsvRowError(row=1, error="empty file")]
    unknown = [f for f in reader.fieldnames if f and f.strip() not in SOURCE_CSV_FIELDS]
    missing = [f for f in ("id", "name", "unit", "kind") if f not in reader.fieldnames]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s): {', '.join(unknown)}")
        return [], [CsvRowError(row=1, error="; ".join(parts))]
    units = {u.id for u in plan.units}
    sources: list[Source] = []
    errors: list[CsvRowError] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        values: dict[str, Any] = {}
        for key, raw in row.items():
            if key is None:
                errors.append(CsvRowError(row=number, error="more cells than columns"))
                break
            raw = (raw or "").strip()
            if key in ("feeds", "sitemaps", "listings"):
                values[key] = [u for u in re.split(r"[\s|]+", raw) if u]
            elif key == "enabled":
                if raw:
                    values[key] = raw.lower() in ("1", "true", "yes", "y", "có")
            elif raw:
                values[key] = raw
        else:
            try:
                source = Source.model_validate(values)
            except ValidationError as exc:
                error = exc.errors()[0]
                errors.append(CsvRowError(row=number,
                                          error=f"{_field_path(tuple(error['loc']))}: "
                                                f"{_friendly(error)}"))
                continue
            if source.unit not in units:
                errors.append(CsvRowError(row=number, error=f"unit: unknown unit {source.unit!r}"))
                continue
            if source.id in seen:
                errors.append(CsvRowError(row=number, error=f"id: duplicate id {source.id!r}"))
                continue
            seen.add(source.id)
            sources.append(source)
    return sources, errors


def merge_sources(existing: list[Source], incoming: list[Source]) -> tuple[list[Source], int, int]:
    """Add or update by id, keeping order; returns (merged, added, updated)."""
    by_id = {s.id: i for i, s in enumerate(existing)}
    merged = list(existing)
    added = updated = 0
    for source in incoming:
        if source.id in by_id:
            if merged[by_id[source.id]] != source:
                updated += 1
            merged[by_id[source.id]] = source
        else:
            by_id[source.id] = len(merged)
            merged.append(source)
            added += 1
    return merged, added, updated
