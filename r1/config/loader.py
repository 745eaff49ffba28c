"""A typed YAML loader: dataclasses as schemas, overlays merged key by key, errors that name the key.

Generic (no stage knows about it): r1.config.params holds the schemas, r1.config puts the two together.
Pure Python, so Snakemake can validate params at parse time without importing torch.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml


class ConfigError(ValueError):
    """A params problem; the message names the key."""


def deep_merge(base: dict, overlay: dict, path: str = "") -> dict:
    """Overlay values win; mappings merge key by key. An overlay key absent from the base is an error."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        where = f"{path}{key}"
        if key not in merged:
            raise ConfigError(f"{where}: unknown key in overlay{suggest(key, merged)}")
        if isinstance(value, dict) and isinstance(merged[key], dict):
            merged[key] = deep_merge(merged[key], value, where + ".")
        else:
            merged[key] = copy.deepcopy(value)
    return merged



def to_dict(obj: Any) -> Any:
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj


def read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return data


def suggest(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


OPTIONAL = "optional"  # field metadata: the key may be left out (its default applies), e.g. in a list of records


def build(cls, raw: Any, path: str = ""):
    """An instance of dataclass `cls` from the mapping `raw`: every field present (but those whose metadata says
    OPTIONAL), no unknown key, each value of the field's type (nested dataclasses, Optional, Literal, list, dict);
    errors name the key path."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.rstrip('.') or 'params'}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            raise ConfigError(f"{path}{key}: unknown key{suggest(key, fields)}")
    values = {}
    for name in fields:
        if name not in raw:
            if fields[name].metadata.get(OPTIONAL):
                continue
            raise ConfigError(f"{path}{name}: missing key")
        values[name] = _coerce(hints[name], raw[name], f"{path}{name}")
    try:
        return cls(**values)
    except ConfigError as err:
        raise ConfigError(f"{path}{err}") from None


def _coerce(tp, value, path):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path + ".")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, path)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if errors else f"{path}: must not be null")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{path}: {value!r} is not one of {list(args)}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {_tname(value)}")
        return [_coerce(args[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {_tname(value)}")
        return {_coerce(args[0], k, f"{path}.{k}"): _coerce(args[1], v, f"{path}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: expected a number, got {_tname(value)}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer, got {_tname(value)}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {_tname(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {_tname(value)}")
        return value
    raise TypeError(f"{path}: unsupported config type {tp}")


def _tname(value) -> str:
    return "null" if value is None else f"{type(value).__name__} {value!r}"
