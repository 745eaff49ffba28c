"""Training checkpoints (GRPO and SFT stages): resumed only by the run that wrote them, loaded the way they were saved.

    work = run_dir(paths.checkpoints(stage), run_key(cfg_dict, seed, start_model_dir, data_digest))
    resume = last_complete(work)          # newest checkpoint-N marked COMPLETE; unmarked (half-written) ones removed
    ...build the trainer...
    restore_weights(trainer, resume)      # before trainer.train(resume_from_checkpoint=resume)
    ...
    shutil.rmtree(work)                   # a finished run leaves nothing to continue from

Why each piece:
- A checkpoint belongs to one run: the stage's settings, the seed, the start model and the data. Without the key, a
  rerun after an edit to params.yaml resumed the previous run's last checkpoint (at max_steps: it trained nothing and
  saved the old model). Checkpoints of other runs of the stage are removed when a run starts.
- A checkpoint is marked COMPLETE by a callback (r1.train.callbacks.MarkComplete) after the Trainer has written all
  of it; a kill mid-save leaves no marker, and that checkpoint is never resumed.
- The Trainer reloads a checkpoint's weights with a raw `load_state_dict` of the saved file; transformers 5 saves MoE
  experts per expert but holds them fused in memory, so that reload silently left the experts (and the tied head) at
  the start model's values. `restore_weights` loads the checkpoint with `from_pretrained`, which converts, and skips
  the Trainer's own reload; optimizer, scheduler and RNG state still come from the checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from r1.build.log import logger

MARKER = "COMPLETE"
log = logger("checkpoints")


def run_key(settings: dict, seed: int, start_model: Path | str | None, data_digest: str) -> str:
    """12 hex digits naming one run: its settings, seed, start model (hashed like a DVC dependency) and data."""
    from r1.build.artifacts import hash_path

    digest = hashlib.md5(json.dumps([settings, seed], sort_keys=True, default=str).encode())
    digest.update((hash_path(start_model) if start_model is not None else "-").encode())
    digest.update(data_digest.encode())
    return digest.hexdigest()[:12]


def run_dir(root: Path | str, key: str) -> Path:
    """`root/key`, created; checkpoints of the stage's other runs (other settings or inputs) are removed."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for other in root.iterdir():
        if other.is_dir() and other.name != key:
            log(f"removing {other}: checkpoints of a run with other settings or inputs")
            shutil.rmtree(other, ignore_errors=True)
    work = root / key
    work.mkdir(exist_ok=True)
    return work


def step_of(path: Path) -> int:
    m = re.fullmatch(r"checkpoint-(\d+)", Path(path).name)
    return int(m[1]) if m else -1


def mark_complete(checkpoint: Path | str) -> None:
    (Path(checkpoint) / MARKER).write_text("complete\n")


def is_complete(checkpoint: Path | str) -> bool:
    return (Path(checkpoint) / MARKER).is_file()


def last_complete(work: Path | str, remove_incomplete: bool = True) -> Path | None:
    """The newest checkpoint-N with a completion marker; unmarked ones (killed mid-save) are removed."""
    work = Path(work)
    if not work.is_dir():
        return None
    found = sorted((p for p in work.iterdir() if p.is_dir() and step_of(p) >= 0), key=step_of)
    if remove_incomplete:
        for p in found:
            if not is_complete(p):
                log(f"removing incomplete checkpoint {p} (no {MARKER} marker)")
                shutil.rmtree(p, ignore_errors=True)
    complete = [p for p in found if is_complete(p)]
    return complete[-1] if complete else None


def restore_weights(trainer, checkpoint: Path | str | None) -> None:
    """Put the checkpoint's weights into `trainer.model` (loaded with from_pretrained) and stop the Trainer from
    reloading them itself; the rest of the resume (optimizer, scheduler, RNG, step) is left to the Trainer."""
    if checkpoint is None:
        return
    model = trainer.model
    saved = type(model).from_pretrained(str(checkpoint), dtype=next(model.parameters()).dtype)
    missing, unexpected = model.load_state_dict(saved.state_dict(), strict=False)
    # a tied head is absent from the state dict of a model that ties it; anything else is a real mismatch
    missing = [k for k in missing if not (k == "lm_head.weight" and model.config.tie_word_embeddings)]
    if missing or unexpected:
        raise RuntimeError(f"checkpoint {checkpoint} does not match the model: missing {missing[:5]}, "
                           f"unexpected {unexpected[:5]}")
    trainer._load_from_checkpoint = lambda *args, **kwargs: None  # noqa: SLF001 (its raw reload is the bug above)


def remove_finished(work: Path | str) -> None:
    """A finished run's checkpoints removed (a rerun of the same run must train afresh, not continue). With several
    processes, by the main one once every rank is past its last read of them: a rank that removed them early took
    the run's metrics.tsv from under the main process, which then published an empty one."""
    from r1.build import distributed

    distributed.barrier()
    if distributed.is_main():
        shutil.rmtree(work, ignore_errors=True)
