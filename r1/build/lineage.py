"""`r1 lineage <artifact>`: follow manifests from an artifact back through its inputs to the first stage."""

from __future__ import annotations

from pathlib import Path

from r1.build.artifacts import MANIFEST, RUN_INFO, hash_path, read_manifest, read_run_info


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
        run = read_run_info(root / path)
        if run is None and "wall_seconds" in manifest:  # written before timing moved to the sidecar
            run = {"wall_seconds": manifest["wall_seconds"], "finished": manifest.get("created")}
        out.append({
            "artifact": key,
            "depth": depth,
            "stage": manifest.get("stage"),
            "profile": manifest.get("profile"),
            "git_rev": (manifest.get("code") or {}).get("git_rev"),
            "dirty": (manifest.get("code") or {}).get("dirty"),
            "wall_seconds": run.get("wall_seconds") if run else None,
            "finished": run.get("finished") if run else None,
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
        wall = (f"wall={entry['wall_seconds']}s finished={entry['finished']}" if entry["wall_seconds"] is not None
                else f"wall=unknown (no {RUN_INFO}: DVC does not carry it, e.g. after dvc pull)")
        lines.append(f"{pad}{entry['artifact']}  stage={entry['stage']} profile={entry['profile']} code={rev} {wall}")
        for path, digest in entry["inputs"].items():
            flag = "  STALE: rebuilt since" if path in entry["stale_inputs"] else ""
            lines.append(f"{pad}  <- {path} md5={digest[:12]}{flag}")
    return "\n".join(lines)
