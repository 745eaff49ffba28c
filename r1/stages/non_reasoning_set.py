"""`non_reasoning_set` stage: writing, factual QA, self-cognition and translation examples for the SFT mix.

    python -m r1.stages.non_reasoning_set [--profile P]   ->  data/non_reasoning_set/{train.parquet, quality.json}

R1 took ~200k of these from the DeepSeek-V3 SFT pipeline, prompting V3 for a short chain of thought on some. Here:
`source: synthetic` (small profiles) fills templates with a readable-pattern CoT on a `cot_share` of them, no model
in the loop; `source: path` (full scale) reads a local parquet or JSONL file, which the manifest then lists among its
inputs. A Great Expectations suite gates the write.
"""

from __future__ import annotations

from r1.build import quality
from r1.build.artifacts import write_json
from r1.build.stage import StageRun, entry
from r1.data import non_reasoning


def main(run: StageRun) -> None:
    nr = run.cfg.non_reasoning_set
    df = non_reasoning.build(run.cfg)
    report = quality.check(df, run.name, non_reasoning.expectations(nr.min_size))
    run.log(report.summary())
    quality.require(report)

    counts = dict(sorted(df.group_by("category").len().iter_rows()))
    run.record(counts=counts, with_cot=int(df["has_cot"].sum()))
    with run.publish(inputs=(nr.path,) if nr.source == "path" else ()) as out:
        df.write_parquet(out / "train.parquet")
        write_json(out / "quality.json", report.to_dict())
    run.log(f"wrote {run.out}: {len(df)} examples {counts} in {run.seconds():.1f}s")


if __name__ == "__main__":
    entry(main)
