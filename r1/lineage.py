"""`r1 lineage <artifact>`: follow manifests from an artifact back through its inputs to the first stage."""

from __future__ import annotations

from pathlib import Path

from r1.artifacts import MANIFEST, hash_path, read_manifest


def chain(artifact: Path, root: Path | None = None) -> list[dict]:
    """Artifacts from `artifact` back to its sources, depth-first, each once, with whether its recorded input
    hashes still match what is on disk (a stale link means an input was rebuilt after this artifact)."""
    root = root or Path.cwd()
    seen: set[str] = set()
    out: list[dict] = []

    def visit(path: Path, depth: int):
        key = str(path)
        if key in seen:
            return
        seen.add(key)
        manifest_path = (root / path) / MANIFEST if (root / path).is_dir() else None
        if manifest_path is None or not manifest_path.exists():
            out.append({"artifact": key, "depth": depth, "stage": None, "note": "no manifest (not an artifact)"})
            return
        manifest = read_manifest(root / path)
        inputs = manifest.get("inputs", {})
        stale = [p for p, h in inputs.items() if (root / p).exists() and hash_path(root / p) != h]
        out.append({
            "artifact": key,
            "depth": depth,
            "stage": manifest.get("stage"),
            "profile": manifest.get("profile"),
            "git_rev": (manifest.get("code") or {}).get("git_rev"),
            "dirty": (manifest.get("code") or {}).get("dirty"),
            "wall_seconds": manifest.get("wall_seconds"),
            "inputs": inputs,
            "stale_inputs": stale,
        })
        for parent in inputs:
            if (root / parent / MANIFEST).exists():
                visit(Path(parent), depth + 1)

    visit(Path(artifact), 0)
    return out


def format_chain(entries: list[dict]) -> str:
    lines = []
    for entry in entries:
        pad = "  " * entry["depth"]
        if entry["stage"] is None:
            lines.append(f"{pad}{entry['artifact']}  ({entry['note']})")
            continue
        rev = (entry["git_rev"] or "no-git")[:10] + ("+dirty" if entry["dirty"] else "")
        lines.append(f"{pad}{entry['artifact']}  stage={entry['stage']} profile={entry['profile']} code={rev} "
                     f"wall={entry['wall_seconds']}s")
        for path, digest in entry["inputs"].items():
            flag = "  STALE: rebuilt since" if path in entry["stale_inputs"] else ""
            lines.append(f"{pad}  <- {path} md5={digest[:12]}{flag}")
    return "\n".join(lines)
