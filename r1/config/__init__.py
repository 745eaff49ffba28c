"""Typed, validated configuration.

`params.yaml` is the default profile; an overlay `configs/<name>.yaml` is deep-merged over it. The merged mapping is
validated against r1.config.params before any work starts: a missing key, an unknown (misspelt) key, a wrong type or
an old section name is an error that names the key.
"""

from __future__ import annotations

from pathlib import Path

from r1.config.loader import ConfigError, deep_merge, read_yaml, build, to_dict
from r1.config.params import *  # noqa: F403 - the stage schemas
from r1.config.params import Params

ROOT = Path(__file__).resolve().parent.parent.parent
PARAMS_FILE = "params.yaml"
PROFILES_DIR = "configs"
# Sections that were renamed so that a stage, its params section, its module and its artifact share one name.
RENAMED = {"reasoning_rl": "interim", "distill": "student"}


def load_raw(profile: str | None = None, root: Path | str | None = None) -> dict:
    """params.yaml merged with configs/<profile>.yaml (profile None: the one params.yaml names)."""
    root = Path(root) if root else ROOT
    raw = _current(read_yaml(root / PARAMS_FILE), PARAMS_FILE)
    profile = profile or raw.get("profile", "default")
    overlay_path = root / PROFILES_DIR / f"{profile}.yaml"
    if not overlay_path.exists():
        known = sorted(p.stem for p in (root / PROFILES_DIR).glob("*.yaml"))
        raise ConfigError(f"profile: no overlay {overlay_path.relative_to(root)}; known profiles: {known}")
    merged = deep_merge(raw, _current(read_yaml(overlay_path), f"{PROFILES_DIR}/{profile}.yaml"))
    merged["profile"] = profile
    return merged


def load(profile: str | None = None, root: Path | str | None = None) -> Params:
    return validate(load_raw(profile, root))


def validate(raw: dict) -> Params:
    return build(Params, raw)


# Wall-clock caps moved out of the stage sections: a cap fails a stage, it never ends one early.
MOVED_CAPS = {("final", "grpo", "max_minutes"): "final", ("reasoning_set", "max_minutes_per_shard"): "reasoning_shard"}


def _current(raw: dict, where: str) -> dict:
    for old, new in RENAMED.items():
        if old in raw:
            raise ConfigError(f"{old}: renamed to {new!r} (in {where})")
    for section, value in raw.items():
        keys = [(section, "max_minutes")] if isinstance(value, dict) and "max_minutes" in value else []
        keys += [k for k in MOVED_CAPS if k[0] == section and _has(value, k[1:])]
        for key in keys:
            stage = MOVED_CAPS.get(key, section)
            raise ConfigError(f"{'.'.join(key)}: moved to time_caps.minutes.{stage} (in {where}); a time cap now "
                              f"fails the stage instead of ending it early")
    return raw


def _has(value, path: tuple) -> bool:
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True
