"""`student_base` stage: the students' starting point, pretrained like `base` at the student's size.

    python -m r1.student_base [--profile P]   ->  models/student_base (model, tokenizer, curve.tsv, corpus.json)

R1 distilled into pretrained Qwen/Llama models. Here the student base is built by `r1.base`'s own code from the
`student_base` params section (a smaller miniature DeepSeek-V3 from scratch on the same corpus, or an imported
checkpoint at full scale), so the distilled `student` and the RL-only `rl_student` start from the same weights.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from r1 import base, paths
from r1 import part2_paths as p2
from r1.artifacts import atomic_dir, run_stage, write_manifest
from r1.config import Params


def main(cfg: Params) -> None:
    from r1 import modeling

    start = time.time()
    modeling.set_threads(cfg.compute.train_threads)
    bc = cfg.student_base
    inputs: list[Path] = []
    if bc.source == "scratch":
        inputs = [paths.TASKS]
        model, tok, curve, stats = base.build_scratch(bc, base.load_train_records(), cfg.seed)
    else:
        model, tok = modeling.import_base(bc.source, bc.import_path)
        curve, stats = [], {"imported_from": bc.import_path}
    with atomic_dir(p2.STUDENT_BASE) as out:
        modeling.save_model_and_tokenizer(model, tok, out)
        base.write_curve(out / base.CURVE, curve)
        (out / base.CORPUS_STATS).write_text(json.dumps(stats, indent=2) + "\n")
        write_manifest(out, "student_base", cfg, ["seed", "student_base", "compute"], inputs, time.time() - start,
                       extra={"n_params": modeling.n_params(model), "architecture": type(model).__name__})
    print(f"[student_base] wrote {p2.STUDENT_BASE}: {modeling.n_params(model):,} parameters in "
          f"{time.time() - start:.0f}s", flush=True)


if __name__ == "__main__":
    run_stage("student_base", main)
