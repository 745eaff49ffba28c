"""r1.eval.report: merge per-model evals into the exact eval.json shape, the markdown tables, the PNG curves."""

import json
import shutil
from pathlib import Path

import pytest

from r1.eval.report import METRICS, read_curves, report


def metrics(base: float) -> dict:
    one = {"pass@1": base, "cons@k": base + 0.05, "pass@k": base + 0.1, "mean_response_tokens": 40 + 100 * base,
           "format_rate": 0.5 + base, "reflection_rate": base / 2}
    return {**one, "by_family": {"math": dict(one), "code": {k: v / 2 for k, v in one.items()}}}


def write_eval(eval_dir: Path, model: str, base: float) -> None:
    eval_dir.mkdir(parents=True, exist_ok=True)
    run = {"model": model, "k": 8, "n_items": 300, "metrics": metrics(base), "generation": {"tokens": 1000},
           "params": {"eval": {"temperature": 0.6, "top_p": 0.95, "max_new_tokens": 128}}}
    (eval_dir / f"{model}.json").write_text(json.dumps(run))


METRICS_TSV = "step\treward\treward_std\tcompletion_length\tkl\taccuracy\treflection_rate\n" + "".join(
    f"{s}\t{0.1 + s / 100:.3f}\t0.2\t{30 + s}\t0.0\t{s / 120:.3f}\t{'' if s % 7 == 0 else s / 400}\n"
    for s in range(1, 61))


def run_report(models, eval_dir, out_dir, models_root):
    """The report of `models` whose evals are in `eval_dir`, written to out_dir/eval.json, eval.md and plots/."""
    return report({m: eval_dir / f"{m}.json" for m in models}, out_json=out_dir / "eval.json",
                  out_md=out_dir / "eval.md", plots_dir=out_dir / "plots",
                  model_dirs={m: models_root / m for m in models})


@pytest.fixture
def built(tmp_path):
    write_eval(tmp_path / "reports/eval", "base", 0.1)
    write_eval(tmp_path / "reports/eval", "r1_zero", 0.3)
    (tmp_path / "models/r1_zero").mkdir(parents=True)
    (tmp_path / "models/r1_zero/metrics.tsv").write_text(METRICS_TSV)
    (tmp_path / "models/base").mkdir(parents=True)  # no metrics.tsv: not an RL model
    merged = run_report(["base", "r1_zero"], tmp_path / "reports/eval", tmp_path / "reports", tmp_path / "models")
    return tmp_path, merged


def test_merged_json_has_exactly_the_required_shape(built):
    root, merged = built
    on_disk = json.loads((root / "reports/eval.json").read_text())
    assert on_disk == merged
    assert list(on_disk) == ["base", "r1_zero"]
    for model, base in (("base", 0.1), ("r1_zero", 0.3)):
        m = on_disk[model]
        assert set(m) == {*METRICS, "by_family"}
        assert m["pass@1"] == pytest.approx(base)
        assert set(m["by_family"]) == {"math", "code"}
        assert all(set(f) == set(METRICS) for f in m["by_family"].values())
        assert all(isinstance(v, float) for f in m["by_family"].values() for v in f.values())


def test_markdown_tables(built):
    root, _ = built
    md = (root / "reports/eval.md").read_text()
    assert "| model | items | pass@1 | cons@8 | pass@8 | mean tokens | format rate | reflection rate |" in md
    assert "| base | 300 | 0.100 | 0.150 | 0.200 | 50.0 | 0.600 | 0.050 |" in md
    assert "| code | r1_zero | 0.150 |" in md and "| math | base | 0.100 |" in md
    assert "![r1_zero_reward_length](plots/r1_zero_reward_length.png)" in md


def test_plots_drawn_for_rl_models_only(built):
    root, _ = built
    pngs = sorted(p.name for p in (root / "reports/plots").iterdir())
    assert pngs == ["eval_pass1.png", "r1_zero_reflection.png", "r1_zero_reward_length.png"]
    for name in pngs:
        assert (root / "reports/plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_curves_tolerate_empty_cells(tmp_path):
    tsv = tmp_path / "metrics.tsv"
    tsv.write_text(METRICS_TSV)
    df = read_curves(tsv)
    assert df.columns == ["step", "reward", "accuracy", "completion_length", "reflection_rate"]
    assert df["reflection_rate"].null_count() == 8  # steps 7, 14, ..., 56
    assert df["step"].to_list()[:3] == [1.0, 2.0, 3.0]


def test_missing_eval_is_a_clear_error(tmp_path):
    write_eval(tmp_path, "base", 0.1)
    with pytest.raises(FileNotFoundError, match="build the `eval_r1_zero` stage first"):
        run_report(["base", "r1_zero"], tmp_path, tmp_path / "out", tmp_path)
    assert not (tmp_path / "out" / "eval.json").exists()


def test_report_does_not_read_the_run_sidecars(built):
    """Timings live in sidecars DVC ignores (reports/eval/<model>.run.json, models/<m>/throughput.tsv): the report's
    outputs, which DVC hashes, must not change with them."""
    root, _ = built
    (root / "reports/eval/base.run.json").write_text(json.dumps({"wall_seconds": 9.9, "generation": {"seconds": 1}}))
    (root / "models/r1_zero/throughput.tsv").write_text("step\telapsed_s\n1\t0.5\n")
    out = root / "again"
    run_report(["base", "r1_zero"], root / "reports/eval", out, root / "models")
    assert (out / "eval.json").read_bytes() == (root / "reports/eval.json").read_bytes()
    assert (out / "eval.md").read_bytes() == (root / "reports/eval.md").read_bytes()


def test_report_stage_reads_and_writes_the_paths_of_its_dag_row(built, monkeypatch):
    """The stage in a workflow directory: reports/eval/<m>.json in, reports/eval.json, eval.md and plots/ out, the
    same bytes as the library call with those paths."""
    import dataclasses

    from r1 import config
    from r1.build.stage import start
    from r1.stages import report as report_stage

    root, _ = built
    work = root / "work"
    (work / "reports").mkdir(parents=True)
    shutil.copytree(root / "reports/eval", work / "reports/eval")
    shutil.copytree(root / "models", work / "models")
    monkeypatch.chdir(work)
    cfg = config.load("ci")
    cfg = dataclasses.replace(cfg, eval=dataclasses.replace(cfg.eval, models=["base", "r1_zero"]))
    report_stage.main(start("report", cfg))
    for name in ("eval.json", "eval.md"):
        assert (work / "reports" / name).read_bytes() == (root / "reports" / name).read_bytes(), name
    assert sorted(p.name for p in (work / "reports/plots").iterdir()) == sorted(
        p.name for p in (root / "reports/plots").iterdir())
