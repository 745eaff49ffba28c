"""A stage's code dependencies, computed from its imports.

Walks the import statements (module level and inside functions: a lazy import is still code the stage runs) of a
module of the project's own package, recursively, and returns every file they reach, package `__init__.py` files
included. Reads source with `ast`, imports nothing, so it is cheap at DAG parse time.

Each file's direct imports are cached in `<root>/.r1/codedeps.json` under its size and mtime (parsing ~70 files was
most of the DAG's build time at every `snakemake` call, a no-op included); an edited file is parsed again. The
cache only saves parsing: the result is the same with or without it, and a missing or unreadable cache is rebuilt.
"""

from __future__ import annotations

import ast
import functools
import json
import os
from pathlib import Path

PACKAGE = "r1"
CACHE = Path(".r1") / "codedeps.json"
_VERSION = 1  # bump when _parse's output changes


def _module_file(root: Path, module: str) -> Path | None:
    """The file of a dotted module under `root` (module.py or module/__init__.py), or None."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=None)
def _imports(root: Path, module: str) -> tuple[str, ...]:
    """The project modules that `module` imports directly (`from r1.x import y` counts r1.x, and r1.x.y when y is a
    submodule)."""
    path = _module_file(root, module)
    if path is None:
        return ()
    found = _cache(root).imports(path, module)
    return tuple(m for m in found if (m == PACKAGE or m.startswith(PACKAGE + ".")) and _module_file(root, m))


def _parse(path: Path, module: str) -> list[str]:
    """Every module named by an import statement of `path` (relative imports resolved against `module`)."""
    is_pkg = path.name == "__init__.py"
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                parts = module.split(".") if is_pkg else module.split(".")[:-1]
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names]
    return found


class _Cache:
    """{relative path: [size, mtime_ns, module, imports]} on disk; written back (atomically) when it changed."""

    def __init__(self, root: Path):
        self.path, self.root, self.dirty = root / CACHE, root, False
        try:
            data = json.loads(self.path.read_text())
            self.entries = data["files"] if data.get("version") == _VERSION else {}
        except (OSError, ValueError, KeyError, TypeError):
            self.entries = {}

    def imports(self, path: Path, module: str) -> list[str]:
        st = path.stat()
        key = path.relative_to(self.root).as_posix()
        hit = self.entries.get(key)
        if hit and hit[:3] == [st.st_size, st.st_mtime_ns, module]:
            return hit[3]
        found = _parse(path, module)
        self.entries[key] = [st.st_size, st.st_mtime_ns, module, found]
        self.dirty = True
        return found

    def save(self) -> None:
        if not self.dirty:
            return
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"version": _VERSION, "files": self.entries}, sort_keys=True))
            os.replace(tmp, self.path)  # concurrent writers: the last whole file wins
            self.dirty = False
        except OSError:
            tmp.unlink(missing_ok=True)  # a read-only checkout: parse again next time


@functools.lru_cache(maxsize=None)
def _cache(root: Path) -> _Cache:
    return _Cache(root)


def modules(root: Path | str, module: str) -> set[str]:
    """`module` and every project module it reaches through imports, with their parent packages."""
    root = Path(root).resolve()
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__.py and a/b/__init__.py first
            parent = ".".join(parts[:i])
            if parent not in seen and _module_file(root, parent):
                seen.add(parent)
                todo += _imports(root, parent)
    return seen


def files(root: Path | str, module: str) -> list[str]:
    """The source files (relative to `root`, sorted) that `module` runs: its code dependencies."""
    root = Path(root).resolve()
    out = sorted(_module_file(root, m).relative_to(root).as_posix() for m in modules(root, module))
    _cache(root).save()
    return out
