"""The effective settings: a flag wins over the environment, which wins over the file.

One rule for every option (README, "Configuration"): a flag given on the
command line, else its ``BRIDGECHAT_...`` environment variable, else its key
in the TOML file named by ``--config`` (or ``BRIDGECHAT_CONFIG``), else the
default. Relative paths are read from the working directory, wherever they
were written. `bridgechat config` prints the outcome in the file's own
format, each line with where its value came from, passwords masked.
"""

from __future__ import annotations

import argparse
import difflib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bridgechat.operate.options import BY_NAME, ENV_PREFIX, OPTIONS, Option, OptionError
from bridgechat.settings import Settings

CONFIG_ENV = ENV_PREFIX + "CONFIG"
KEY_ENV = ENV_PREFIX + "REPORT_KEY"  # the report key itself: never shown
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")


class ConfigError(ValueError):
    """A setting that cannot be used: one plain line that names where it was written."""


@dataclass(frozen=True, slots=True)
class Effective:
    """The settings a command runs with, and where each came from."""

    settings: Settings
    values: dict[str, Any]  # option name -> value as the operator writes it
    sources: dict[str, str]  # option name -> flag, environment, file or default
    config_file: Path | None


def add_flags(parser: argparse.ArgumentParser, names: Iterable[str] | None = None) -> None:
    """The options (all, or those named) as flags, plus --config."""
    parser.add_argument("--config", default=None, metavar="FILE",
                        help=f"TOML file of settings (env {CONFIG_ENV}); flags and the "
                             "environment win over it")
    chosen = OPTIONS if names is None else tuple(BY_NAME[n] for n in names)
    for o in chosen:
        shown = argparse.SUPPRESS if o.hidden else f"{o.help} (env {o.env})"
        if o.switch:
            parser.add_argument(o.flag, dest=o.name, action="store_const", const=True,
                                default=None, help=shown)
        else:
            parser.add_argument(o.flag, dest=o.name, type=_flag_type(o), default=None,
                                action="append" if o.many else "store", help=shown,
                                metavar=o.name.split("-")[-1].upper())


def _flag_type(o: Option) -> Any:
    def convert(value: str) -> Any:
        try:
            return o.parse(value)
        except OptionError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = o.name  # argparse names the type in its own messages
    return convert


def resolve(args: argparse.Namespace, environ: Mapping[str, str],
            names: Iterable[str] | None = None) -> Effective:
    """The effective settings for the options a command took (all, or those named)."""
    chosen = OPTIONS if names is None else tuple(BY_NAME[n] for n in names)
    path_text = getattr(args, "config", None) or environ.get(CONFIG_ENV) or None
    config_file = Path(path_text) if path_text else None
    from_file = read_file(config_file) if config_file is not None else {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for o in chosen:
        flag = getattr(args, o.name, None)
        if flag is not None:
            values[o.name], sources[o.name] = flag, "flag"
        elif environ.get(o.env, "") != "":
            values[o.name], sources[o.name] = _from_env(o, environ[o.env]), "environment"
        elif o.name in from_file:
            values[o.name], sources[o.name] = from_file[o.name], "file"
        else:
            values[o.name], sources[o.name] = o.default(), "default"
    fields = {BY_NAME[n].field: BY_NAME[n].to_field(v) for n, v in values.items()}
    return Effective(Settings(**fields), values, sources, config_file)


def _from_env(o: Option, raw: str) -> Any:
    try:
        if o.switch:
            word = raw.strip().lower()
            if word not in TRUE + FALSE:
                raise OptionError(f"must be true or false, not {raw!r}")
            return word in TRUE
        if o.many:
            return [o.parse(part) for part in raw.split(",") if part.strip()]
        return o.parse(raw)
    except OptionError as e:
        raise ConfigError(f"{o.env}: {e}") from None


def read_file(path: Path) -> dict[str, Any]:
    """The file's settings by option name; a wrong key or value names its line."""
    try:
        source = path.read_text("utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read the config file {path}: {e.strerror}") from None
    try:
        table = tomllib.loads(source)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from None
    values: dict[str, Any] = {}
    for key, raw in table.items():
        o = BY_NAME.get(key)
        where = f"{path}, line {_line_of(source, key)}"
        if o is None:
            near = difflib.get_close_matches(key, BY_NAME, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigError(f"{where}: {key!r} is not a setting{hint}")
        try:
            values[key] = _from_toml(o, raw)
        except OptionError as e:
            raise ConfigError(f"{where}: {key} {e}") from None
    return values


def _from_toml(o: Option, raw: Any) -> Any:
    if o.switch:
        if not isinstance(raw, bool):
            raise OptionError(f"must be true or false, not {raw!r}")
        return raw
    if o.many:
        items = raw if isinstance(raw, list) else [raw]
        if not all(isinstance(i, str) for i in items):
            raise OptionError("must be a list of strings")
        return [o.parse(i) for i in items]
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise OptionError(f"must be a string or a number, not {raw!r}")
    return o.parse(str(raw))


def _line_of(source: str, key: str) -> int:
    for number, line in enumerate(source.splitlines(), 1):
        if line.strip().startswith(key) and line.strip()[len(key):].lstrip().startswith("="):
            return number
    return 1


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """BRIDGECHAT_ variables that set nothing (a typo is otherwise silently ignored)."""
    known = {o.env for o in OPTIONS} | {CONFIG_ENV, KEY_ENV}
    lines = []
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name not in known \
                and not name.startswith(ENV_PREFIX + "TEST_"):
            near = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            lines.append(f"{name} is set but is not a setting{hint}")
    return lines


def masked(url: str) -> str:
    """A URL with its password replaced by ***, for showing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query,
                       parts.fragment))


def show(effective: Effective, environ: Mapping[str, str]) -> str:
    """The effective settings as a TOML file would hold them, with each one's source."""
    where = effective.config_file or "none"
    lines = [f"# bridgechat's effective settings (config file: {where})",
             "# precedence: flag > environment (BRIDGECHAT_...) > config file > default"]
    for name, value in effective.values.items():
        o = BY_NAME[name]
        if o.hidden and effective.sources[name] == "default":
            continue
        source = effective.sources[name]
        if value is None:
            lines.append(f"# {name} is not set  ({source})")
            continue
        if o.secret:
            value = masked(value)
        lines.append(f"{name} = {_toml(value)}  # {source}")
    key = "set, hidden" if environ.get(KEY_ENV) else "not set"
    lines.append(f"# report key in {KEY_ENV}: {key}")
    lines += [f"# ignored: {line}" for line in unknown_variables(environ)]
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
