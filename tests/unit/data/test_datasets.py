"""Part 2's dataset stages: cold start, non-reasoning set, preference pairs, the reasoning-set shards and merge.
Generation is replaced by canned completions, so these test the selection logic, not a model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import polars as pl
import pytest

from helpers import tiny
from r1 import config
from r1.build import paths, quality
from r1.build.artifacts import hash_path, read_manifest, read_run_info
from r1.build.stage import start
from r1.data import non_reasoning
from r1.data import readable as cold_start
from r1.data import sampling as reasoning_set
from r1.data import preferences
from r1.train import reward_model as reward_models
from r1.verify.answer import extract_answer, reasoning_of


@pytest.fixture(scope="module")
def cfg():
    return config.load()


@pytest.fixture(scope="module")
def train():
    return tiny.tasks(30)


def zero_style(row, correct=True):
    """An R1-Zero completion for a task row, right or wrong."""
    answer = row["answer"] if correct else "999"
    return f" <think> {row['solution']} </think> <answer> {answer} </answer>"


# ---- cold start ------------------------------------------------------------------------------------------------------


def test_rewrite_makes_an_r1_zero_sample_readable_and_keeps_its_answer():
    text = "<think> 9 + 20 = 29\n29 + 3 = 32. wait, check: 29 + 3 = 32 </think> <answer> 32 </answer>"
    out = cold_start.rewrite(text, "math")
    # the answer once, in the summary; later lines start as the base corpus writes them (a number, or "wait" with no
    # leading space)
    assert out == ("|special_token| first 9 + 20 = 29\n29 + 3 = 32\nwait, check: 29 + 3 = 32 |special_token| "
                   "<answer> 32 </answer>")
    assert extract_answer(out) == "32"
    assert cold_start.readable_ok(out)
    assert "<think>" not in out


@pytest.mark.parametrize("bad", ["no tags at all", "<think> 1 + 1 = 2 </think>", "<answer> 2 </answer>",
                                 "<think>  </think> <answer> 2 </answer>"])
def test_rewrite_refuses_what_it_cannot_carry_over(bad):
    assert cold_start.rewrite(bad, "math") is None


def test_readable_ok_rejects_malformed_patterns():
    good = cold_start.readable(["3 + 4 = 7"], "7", "math")
    assert cold_start.readable_ok(good)
    assert not cold_start.readable_ok(good.replace("<answer> 7 </answer>", "7"))  # no answer in the summary
    assert not cold_start.readable_ok("|special_token| x |special_token| y |special_token| <answer> 7 </answer>")
    assert not cold_start.readable_ok("<think> x </think> <answer> 7 </answer>")


def test_readable_reasoning_is_language_consistent_where_r1_zero_is_not():
    from r1.verify import rewards

    zero = "<think> 9 + 20 = 29\n29 + 3 = 32 </think> <answer> 32 </answer>"
    lc = rewards.get("language_consistency")
    assert lc([zero]) == [0.0]  # only digits and symbols: no words in the target language
    assert lc([cold_start.rewrite(zero, "math")]) == [1.0]


def _zero_generate(train, models=None):
    """R1-Zero stand-in: per prompt, sample 0 right and well formed, 1 a duplicate of it, 2 wrong, 3 right but
    malformed. `models` collects the model argument of each call."""
    rows = {r["prompt"]: r for r in train.iter_rows(named=True)}

    def fake_generate(model, prompts, n, **kw):
        if models is not None:
            models.append(model)
        out = []
        for p in prompts:
            row = rows[p.split("User: ", 1)[1].rsplit(". Assistant:", 1)[0]]
            out.append([zero_style(row), zero_style(row), zero_style(row, False), row["answer"]][:n])
        return out

    return fake_generate


def _small_cold_start(cfg):
    cs = dataclasses.replace(cfg.cold_start, n_prompts=12, samples_per_prompt=4, max_per_prompt=2, target_size=20,
                             min_size=5)
    return dataclasses.replace(cfg, cold_start=cs)


def test_build_keeps_correct_well_formed_samples_and_tops_up_from_solutions(cfg, train, monkeypatch):
    monkeypatch.setattr("r1.model.generate.generate", _zero_generate(train))
    cs = _small_cold_start(cfg).cold_start
    df, stats = cold_start.build(train, "unused", _small_cold_start(cfg))
    assert stats["samples"] == 48 and stats["correct"] >= 24
    from_zero = df.filter(pl.col("source") == "r1_zero")
    assert len(from_zero) == 12  # one distinct right answer per prompt (the duplicate and the wrong one go)
    assert stats["from_solutions"] == 8 and len(df) == 20
    assert not set(df.filter(pl.col("source") == "solution")["id"]) & set(from_zero["id"])
    report = cold_start.validate(df, cs.min_size, cs.target_size, cs.min_language_consistency)
    assert report.success, report.summary()


def test_cold_start_gate_fails_on_a_wrong_example(cfg, train):
    row = train.row(0, named=True)
    good = cold_start.from_solution(row["solution"], row["answer"], row["kind"])
    bad = cold_start.readable(["1 + 1 = 2"], "999", row["kind"])
    df = pl.concat([train.head(1).select(cold_start.TASK_COLUMNS)] * 2).with_columns(
        pl.Series("completion", [good, bad]), pl.lit("solution").alias("source"))
    report = cold_start.validate(df, 1, 10, 0.9)
    assert not report.success and "every_example_verified_correct" in report.summary()
    with pytest.raises(quality.QualityError):
        quality.require(report)


def _workdir(tmp_path, monkeypatch, train, *models):
    """A scratch build root: the train tasks and a saved-model marker for each of `models`; stages run without
    touching torch's thread count."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / paths.TASKS).mkdir(parents=True)
    train.write_parquet(tmp_path / paths.TASKS / "train.parquet")
    for name in models:
        (tmp_path / paths.model_dir(name)).mkdir(parents=True)
        (tmp_path / paths.model_dir(name) / "config.json").write_text("{}")
    for stage in ("cold_start", "reasoning_shard"):
        monkeypatch.setattr(f"r1.stages.{stage}.set_threads", lambda n: n, raising=False)


def test_cold_start_stage_samples_r1_zero_and_publishes_the_gated_set(cfg, train, tmp_path, monkeypatch):
    from r1.stages import cold_start as stage

    _workdir(tmp_path, monkeypatch, train, "r1_zero")
    models: list = []
    monkeypatch.setattr("r1.model.generate.generate", _zero_generate(train, models))
    run_cfg = _small_cold_start(cfg)
    stage.main(start("cold_start", run_cfg))
    assert models == [str(paths.R1_ZERO)]  # sampled from the r1_zero artifact its DAG row needs
    df = pl.read_parquet(paths.COLD_START / "train.parquet")
    expected, stats = cold_start.build(train, "unused", run_cfg)
    assert df.equals(expected) and len(df) == 20
    assert json.loads((paths.COLD_START / "stats.json").read_text()) == stats
    assert json.loads((paths.COLD_START / "quality.json").read_text())["success"]
    manifest = read_manifest(paths.COLD_START)
    assert manifest["stage"] == "cold_start" and manifest["stats"] == stats
    assert set(manifest["inputs"]) == {str(paths.R1_ZERO), str(paths.TASKS)}
    assert set(manifest["params"]) == {"seed", "cold_start", "generation"}
    assert "build_seconds" in read_run_info(paths.COLD_START) and "build_seconds" not in manifest


def test_cold_start_stage_names_the_missing_r1_zero(cfg, train, tmp_path, monkeypatch):
    from r1.stages import cold_start as stage

    _workdir(tmp_path, monkeypatch, train)
    with pytest.raises(SystemExit, match="build the `r1_zero` stage first"):
        stage.main(start("cold_start", _small_cold_start(cfg)))
    assert not paths.COLD_START.exists()


# ---- non-reasoning set -----------------------------------------------------------------------------------------------


def test_synthetic_non_reasoning_set_has_every_category_distinct_rows_and_some_cot(cfg):
    df = non_reasoning.build(cfg)
    assert set(df["category"]) == set(cfg.non_reasoning_set.categories)
    assert df.select(["prompt", "completion"]).is_unique().all()
    share = df["has_cot"].mean()
    assert 0.15 < share < 0.45
    cot = df.filter(pl.col("has_cot"))["completion"][0]
    assert reasoning_of(cot).strip() and cot.count("|special_token|") == 2
    assert quality.check(df, "nr", non_reasoning.expectations(cfg.non_reasoning_set.min_size)).success


def test_non_reasoning_reads_a_local_jsonl_at_full_scale(tmp_path, cfg):
    path = tmp_path / "general.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": f"q{i}", "completion": f"a{i}", "category": "factual_qa"})
                              for i in range(7)))
    nr = dataclasses.replace(cfg.non_reasoning_set, source="path", path=str(path), n_examples=5)
    df = non_reasoning.build(dataclasses.replace(cfg, non_reasoning_set=nr))
    assert df["prompt"].to_list() == [f"q{i}" for i in range(5)] and df["id"].is_unique().all()
    assert not quality.check(df, "nr", non_reasoning.expectations(100)).success  # too few rows fails the gate


def test_non_reasoning_stage_lists_a_local_source_among_its_inputs(tmp_path, cfg, monkeypatch):
    from r1.stages import non_reasoning_set as stage

    source = tmp_path / "general.jsonl"
    source.write_text("\n".join(json.dumps({"prompt": f"q{i}", "completion": f"a{i}", "category": "factual_qa"})
                                for i in range(7)))
    work = tmp_path / "build"
    work.mkdir()
    monkeypatch.chdir(work)
    nr = dataclasses.replace(cfg.non_reasoning_set, source="path", path=str(source), n_examples=5, min_size=5)
    stage.main(start("non_reasoning_set", dataclasses.replace(cfg, non_reasoning_set=nr)))
    df = pl.read_parquet(paths.NON_REASONING / "train.parquet")
    assert df.equals(non_reasoning.build(dataclasses.replace(cfg, non_reasoning_set=nr)))
    manifest = read_manifest(paths.NON_REASONING)
    assert manifest["inputs"] == {str(source): hash_path(source)}
    assert manifest["counts"] == {"factual_qa": 5} and manifest["with_cot"] == 0
    with pytest.raises(quality.QualityError):  # too few rows: the gate stops the stage, nothing is published
        stage.main(start("non_reasoning_set", dataclasses.replace(
            cfg, non_reasoning_set=dataclasses.replace(nr, min_size=100))))
    assert read_manifest(paths.NON_REASONING) == manifest


def test_synthetic_non_reasoning_stage_reads_no_outside_file(tmp_path, cfg, monkeypatch):
    from r1.stages import non_reasoning_set as stage

    monkeypatch.chdir(tmp_path)
    stage.main(start("non_reasoning_set", cfg))
    assert pl.read_parquet(paths.NON_REASONING / "train.parquet").equals(non_reasoning.build(cfg))
    assert read_manifest(paths.NON_REASONING)["inputs"] == {}


# ---- preference pairs and model rewards -----------------------------------------------------------------------------


def test_preference_pairs_differ_and_harmful_requests_prefer_refusals(cfg):
    general = non_reasoning.synthetic(cfg.non_reasoning_set, 0)
    help_pairs = preferences.helpfulness_pairs(general, 100, 0)
    harm_pairs = preferences.harmlessness_pairs(general, 100, 0)
    for df in (help_pairs, harm_pairs):
        assert (df["chosen"] != df["rejected"]).all() and df["id"].is_unique().all()
        assert preferences.check_pairs(df, "x", 50).success
    harmful = harm_pairs.filter(pl.col("prompt").str.contains("insult|steal|hurt|threat|break into"))
    assert len(harmful) > 20
    assert harmful["chosen"].str.contains("won't|can't").all()
    hidden = harmful.filter(pl.col("rejected").str.starts_with("|special_token|"))
    assert len(hidden) > 0  # harm inside the reasoning only: the harmlessness model must read the whole response


def test_helpfulness_judges_the_summary_and_harmlessness_the_whole_response():
    text = "|special_token| a rude thought |special_token| The capital of France is Paris."
    assert reward_models.judged_part("helpfulness", text) == "The capital of France is Paris."
    assert reward_models.judged_part("harmlessness", text) == text
    assert preferences.summary_of("<think> x </think> <answer> 5 </answer>") == "<answer> 5 </answer>"


def test_model_rewards_score_general_rows_only_and_rule_rewards_reasoning_rows_only(monkeypatch):
    seen = []
    monkeypatch.setattr(reward_models, "score_texts", lambda d, texts, *a: seen.extend(texts) or [0.5] * len(texts))
    rm = reward_models.ModelReward("helpfulness", "unused")
    out = rm(["|special_token| t |special_token| Paris.", "<answer> 3 </answer>"], question=["Capital?", "1+2?"],
             kind=["general", "math"])
    assert out == [0.5, None] and seen == ["User: Capital?\nAssistant: Paris."]
    gated = reward_models.ModelReward("harmlessness", "unused", active=lambda state: False)
    assert gated(["x"], question=["q"], kind=["general"]) == [None]
    rule = reward_models.RuleOnReasoning("accuracy")
    assert rule(["<answer> 3 </answer>", "Paris."], kind=["math", "general"], answer=["3", None]) == [1.0, None]


def test_reward_function_resolves_rule_and_model_names_and_rejects_unknown(tmp_path):
    assert reward_models.reward_function("accuracy", tmp_path).__name__ == "accuracy"
    with pytest.raises(FileNotFoundError, match="reward_models"):
        reward_models.reward_function("helpfulness", tmp_path)
    with pytest.raises(KeyError, match="unknown reward"):
        reward_models.reward_function("helpfullness", tmp_path)


# ---- reasoning set ---------------------------------------------------------------------------------------------------


def test_shards_take_disjoint_slices_until_the_train_set_runs_out(cfg, train):
    rs = dataclasses.replace(cfg.reasoning_set, n_shards=4, prompts_per_shard=7)
    slices = [reasoning_set.shard_prompts(train, i, rs, cfg.seed)["id"].to_list() for i in range(4)]
    assert all(len(s) == 7 for s in slices)
    assert len(set().union(*slices)) == 28  # 30 prompts, 4 x 7 taken: no overlap
    assert slices == [reasoning_set.shard_prompts(train, i, rs, cfg.seed)["id"].to_list() for i in range(4)]
    short = dataclasses.replace(rs, prompts_per_shard=20)
    assert len(reasoning_set.shard_prompts(train, 3, short, cfg.seed)) == 20  # cycled
    with pytest.raises(ValueError, match="n_shards"):
        reasoning_set.shard_prompts(train, 4, rs, cfg.seed)


def _fake_generate(train, calls, fail_at=None):
    rows = {r["prompt"]: r for r in train.iter_rows(named=True)}

    def generate(model, prompts, n, **kw):
        calls.append(kw["desc"])
        if fail_at is not None and len(calls) == fail_at:
            raise KeyboardInterrupt("killed")
        out = []
        for p in prompts:
            row = rows[p.split("User: ", 1)[1].rsplit(". Assistant:", 1)[0]]
            good = cold_start.from_solution(row["solution"], row["answer"], row["kind"])
            wrong = cold_start.readable(["1 + 1 = 2"], "999", row["kind"])
            out.append([good, good.replace("first ", "first of all "), wrong][:n])
        return out

    return generate


def test_a_killed_shard_resumes_at_its_first_missing_chunk(cfg, train, tmp_path, monkeypatch):
    rs = dataclasses.replace(cfg.reasoning_set, prompts_per_shard=12, chunk_prompts=4, samples_per_prompt=3,
                             max_per_prompt=2)
    run_cfg = dataclasses.replace(cfg, reasoning_set=rs)
    prompts = reasoning_set.shard_prompts(train, 0, rs, cfg.seed)
    calls: list = []
    monkeypatch.setattr("r1.model.generate.generate", _fake_generate(train, calls, fail_at=2))
    with pytest.raises(KeyboardInterrupt):
        reasoning_set.run_chunks(prompts, None, run_cfg, 0, tmp_path)
    assert sorted(p.name for p in tmp_path.glob("chunk_*.parquet")) == ["chunk_0000.parquet"]
    assert not list(tmp_path.glob(".*"))  # no half-written chunk left behind
    calls.clear()
    monkeypatch.setattr("r1.model.generate.generate", _fake_generate(train, calls))
    kept, stats = reasoning_set.run_chunks(prompts, None, run_cfg, 0, tmp_path)
    assert calls == ["shard 0 chunk 1", "shard 0 chunk 2"]  # chunk 0 was not generated again
    assert stats["chunks_done"] == 3 and stats["samples"] == 36 and stats["correct"] == 24
    assert len(kept) <= 24 and set(kept["accuracy"]) == {1.0}
    calls.clear()
    reasoning_set.run_chunks(prompts, None, run_cfg, 0, tmp_path)
    assert calls == []


def test_a_shard_that_reaches_its_cap_fails_keeping_its_chunks_and_resumes_to_the_same_samples(cfg, train, tmp_path,
                                                                                                monkeypatch):
    """A cap never truncates a shard: it raises CapReached before the next chunk, the chunks done stay in the work
    directory, and the rerun generates only the rest and returns what an uninterrupted shard returns."""
    from helpers.tiny import CapAt
    from r1.build.clock import CapReached

    rs = dataclasses.replace(cfg.reasoning_set, prompts_per_shard=12, chunk_prompts=4, samples_per_prompt=2)
    run_cfg = dataclasses.replace(cfg, reasoning_set=rs)
    calls: list = []
    monkeypatch.setattr("r1.model.generate.generate", _fake_generate(train, calls))
    prompts = reasoning_set.shard_prompts(train, 1, rs, cfg.seed)
    whole, whole_stats = reasoning_set.run_chunks(prompts, None, run_cfg, 1, tmp_path / "whole")
    calls.clear()
    with pytest.raises(CapReached, match=r"reached at step 2 of 3"):
        reasoning_set.run_chunks(prompts, None, run_cfg, 1, tmp_path / "capped", cap=CapAt(3))
    assert len(calls) == 2 and sorted(p.name for p in (tmp_path / "capped").glob("chunk_*.parquet")) == [
        "chunk_0000.parquet", "chunk_0001.parquet"]
    calls.clear()
    kept, stats = reasoning_set.run_chunks(prompts, None, run_cfg, 1, tmp_path / "capped")
    assert len(calls) == 1 and kept.equals(whole) and stats == whole_stats


def test_merge_dedups_across_shards_caps_per_prompt_and_target(cfg, train):
    row = train.row(0, named=True)
    base = {c: row[c] for c in cold_start.TASK_COLUMNS}
    a = cold_start.from_solution(row["solution"], row["answer"], row["kind"])
    b = cold_start.readable(["Wait, check the sum again", row["solution"]], row["answer"], row["kind"])
    c = cold_start.readable(["Another way", "count up one by one", row["solution"]], row["answer"], row["kind"])

    def shard(i, texts):
        return pl.DataFrame([{**base, "completion": t, "accuracy": 1.0, "shard": i, "chunk": 0} for t in texts])

    rs = dataclasses.replace(cfg.reasoning_set, max_per_prompt=2, target_size=100)
    df, stats = reasoning_set.merge([shard(0, [a, b]), shard(1, [a, c])], rs, cfg.seed)
    assert stats["exact_duplicate"] == 1 and stats["over_per_prompt_cap"] == 1 and len(df) == 2
    df, stats = reasoning_set.merge([shard(0, [a, b]), shard(1, [c])], dataclasses.replace(rs, target_size=1), 0)
    assert len(df) == 1 and stats["over_target_size"] == 1


def test_shard_stage_takes_its_number_from_the_instance_and_resumes_from_the_work_cache(cfg, train, tmp_path,
                                                                                      monkeypatch):
    from r1.stages import reasoning_shard as stage

    _workdir(tmp_path, monkeypatch, train, "interim")
    rs = dataclasses.replace(cfg.reasoning_set, prompts_per_shard=12, chunk_prompts=4, samples_per_prompt=3,
                             max_per_prompt=2, min_size=0)
    run_cfg = dataclasses.replace(cfg, reasoning_set=rs)
    calls: list = []
    loads: list = []
    monkeypatch.setattr("r1.model.generate.generate", _fake_generate(train, calls))
    monkeypatch.setattr(stage, "load_model_and_tokenizer", lambda path, device: loads.append((path, device)) or "m")
    stage.main(start("reasoning_shard_001", run_cfg))
    assert loads == [(paths.INTERIM, cfg.generation.device)] and len(calls) == 3
    out = paths.shard_dir(1)
    kept = pl.read_parquet(out / reasoning_set.SAMPLES)
    assert len(kept) and set(kept["shard"]) == {1} and set(kept["accuracy"]) == {1.0}
    assert set(kept["id"]) <= set(reasoning_set.shard_prompts(train, 1, rs, cfg.seed)["id"])
    assert kept.group_by("id").len()["len"].max() <= 2
    manifest = read_manifest(out)
    stats = json.loads((out / "stats.json").read_text())
    assert manifest["stage"] == "reasoning_shard_001" and manifest["shard"] == 1 and manifest["stats"] == stats
    assert stats["chunks_done"] == 3 and stats["kept_after_cap"] == len(kept)
    assert "generate_seconds" in read_run_info(out)
    work = paths.CACHE / "reasoning_set" / reasoning_set.cache_key(run_cfg, [paths.INTERIM, paths.TASKS]) / "shard_001"
    assert sorted(p.name for p in work.glob("chunk_*.parquet")) == [f"chunk_{c:04d}.parquet" for c in range(3)]
    # every chunk is cached: a rerun loads no model, samples nothing and writes the same samples
    calls.clear()
    stage.main(start("reasoning_shard_001", run_cfg))
    assert calls == [] and len(loads) == 1
    assert pl.read_parquet(out / reasoning_set.SAMPLES).equals(kept)


def _shard_artifact(d: Path, frame: pl.DataFrame, stats: dict) -> None:
    d.mkdir(parents=True)
    frame.write_parquet(d / reasoning_set.SAMPLES)
    (d / "stats.json").write_text(json.dumps(stats))


def test_reasoning_set_stage_merges_every_shard_its_dag_row_needs(cfg, train, tmp_path, monkeypatch):
    from r1.stages import reasoning_set as stage

    monkeypatch.chdir(tmp_path)
    row = train.row(0, named=True)
    base = {c: row[c] for c in cold_start.TASK_COLUMNS}
    a = cold_start.from_solution(row["solution"], row["answer"], row["kind"])
    b = cold_start.readable(["Wait, check the sum again", row["solution"]], row["answer"], row["kind"])
    rs = dataclasses.replace(cfg.reasoning_set, n_shards=3, max_per_prompt=4, min_size=1)
    run = start("reasoning_set", dataclasses.replace(cfg, reasoning_set=rs))
    assert [Path(d) for d in run.stage.deps] == [paths.shard_dir(i) for i in range(3)]
    for i, texts in enumerate([[a], [a, b], []]):
        frame = pl.DataFrame([{**base, "completion": t, "accuracy": 1.0, "shard": i, "chunk": 0} for t in texts],
                             schema={**dict(train.select(cold_start.TASK_COLUMNS).schema), "completion": pl.Utf8,
                                     "accuracy": pl.Float64, "shard": pl.Int32, "chunk": pl.Int32})
        if i < 2:
            _shard_artifact(paths.shard_dir(i), frame, {"samples": 4, "correct": len(texts), "kept": len(texts)})
    with pytest.raises(SystemExit, match="shard_002"):  # a missing shard is named, nothing is published
        stage.main(run)
    assert not paths.REASONING_SET.exists()
    _shard_artifact(paths.shard_dir(2), frame, {"samples": 4, "correct": 0, "kept": 0})
    stage.main(start("reasoning_set", dataclasses.replace(cfg, reasoning_set=rs)))
    df = pl.read_parquet(paths.REASONING_SET / "train.parquet")
    assert sorted(df["completion"]) == sorted([a, b])  # the copy of `a` in shard 1 goes
    stats = json.loads((paths.REASONING_SET / "stats.json").read_text())
    assert stats["shards"] == {"samples": 12, "correct": 3, "kept": 3} and stats["acceptance_rate"] == 0.25
    assert stats["merge"]["exact_duplicate"] == 1 and len(stats["per_shard"]) == 3
    manifest = read_manifest(paths.REASONING_SET)
    assert manifest["rows"] == 2 and manifest["acceptance_rate"] == 0.25
    assert set(manifest["inputs"]) == {str(paths.shard_dir(i)) for i in range(3)}


# ---- general RL ----------------------------------------------------------------------------------------------------


def test_final_mixes_reasoning_and_general_prompts_with_the_same_columns(cfg, train):
    from r1.train import grpo

    general = non_reasoning.synthetic(cfg.non_reasoning_set, 0)
    rows = grpo.mix_rows(train.to_dicts(), general, 10, 5, seed=0)
    assert sum(r["kind"] == "general" for r in rows) == 5 and len(rows) == 15
    assert len({tuple(sorted(r)) for r in rows}) == 1  # one schema for the Dataset
    assert all(r["prompt"].endswith("Assistant:") and r["question"] in r["prompt"] for r in rows)
    assert rows == grpo.mix_rows(train.to_dicts(), general, 10, 5, seed=0)


def test_preference_rewards_switch_on_late_by_the_step_alone(monkeypatch):
    import time
    from types import SimpleNamespace

    schedule = reward_models.PreferenceSchedule(0.75, max_steps=100)
    assert not schedule(SimpleNamespace(global_step=10))
    assert not schedule(SimpleNamespace(global_step=74))
    assert schedule(SimpleNamespace(global_step=75)) and schedule(SimpleNamespace(global_step=80))
    monkeypatch.setattr(time, "time", lambda: 1e12)  # a machine a day slower: the same step, the same answer
    monkeypatch.setattr(time, "monotonic", lambda: 1e12)
    assert not schedule(SimpleNamespace(global_step=74))


def test_final_stage_passes_its_rewards_to_the_runner_and_leaves_the_registry_alone(cfg, train, tmp_path,
                                                                                   monkeypatch):
    """`final` run in-process with the GRPO run replaced: the runner gets the reward functions themselves, named and
    ordered as the weights (TRL logs `rewards/<name>/mean`), the rule rewards masked to the task rows; the reward
    registry is left as it was (it is read-only)."""
    from r1.stages import final
    from r1.train import grpo
    from r1.verify import rewards

    registry = dict(rewards.REWARDS)
    monkeypatch.chdir(tmp_path)
    tiny.save_model(tmp_path / paths.SFT)
    for name in ("helpfulness", "harmlessness"):
        tiny.save_model(tmp_path / paths.REWARD_MODELS / name)  # a causal LM dir is enough for resolution
    (tmp_path / paths.TASKS).mkdir(parents=True)
    train.write_parquet(tmp_path / paths.TASKS / "train.parquet")
    (tmp_path / paths.NON_REASONING).mkdir(parents=True)
    non_reasoning.synthetic(cfg.non_reasoning_set, 0).write_parquet(tmp_path / paths.NON_REASONING / "train.parquet")
    seen = {}

    def fake_run_grpo(model_dir, out_dir, grpo_cfg, rows, funcs, **kw):
        seen.update(model_dir=model_dir, weights=dict(grpo_cfg.rewards), funcs=funcs, rows=rows)
        return {"steps": 0}

    monkeypatch.setattr(grpo, "run_grpo", fake_run_grpo)
    final.main(start("final", cfg))
    funcs = seen["funcs"]
    assert seen["model_dir"] == paths.SFT and {r["kind"] for r in seen["rows"]} > {"general"}
    assert list(funcs) == list(seen["weights"]) == [*cfg.final.grpo.rewards, *cfg.final.preference_rewards]
    assert [f.__name__ for f in funcs.values()] == list(funcs)
    # general rows are not judged by the rule rewards inside the final stage, nor task rows by the reward models
    assert funcs["language_consistency"](
        ["plain answer", "|special_token| First, 1 + 1 = 2. |special_token| <answer> 2 </answer>"],
        kind=["general", "math"]) == [None, 1.0]
    assert isinstance(funcs["helpfulness"], reward_models.ModelReward)
    assert funcs["helpfulness"](["x"], question=["q"], kind=["math"]) == [None]
    assert dict(rewards.REWARDS) == registry and "helpfulness" not in rewards.REWARDS
    with pytest.raises(TypeError):
        rewards.REWARDS["helpfulness"] = funcs["helpfulness"]
    assert read_manifest(tmp_path / paths.FINAL)["summary"] == {"steps": 0}


# ---- the effects table ---------------------------------------------------------------------------------------------


def test_effects_table_checks_the_three_claims(tmp_path):
    from r1.eval import effects

    zero = "<think> 3 + 4 = 7 </think> <answer> 7 </answer>"
    readable = "|special_token| First, 3 + 4 = 7.\nSo the result is 7. |special_token| The answer is <answer> 7 </answer>"
    runs = {"r1_zero": (0.10, zero), "interim": (0.12, readable), "sft": (0.15, readable), "final": (0.20, readable),
            "student": (0.08, readable), "rl_student": (0.02, zero)}
    for name, (p1, text) in runs.items():
        (tmp_path / f"{name}.json").write_text(json.dumps({"metrics": {"pass@1": p1, "mean_response_tokens": 20.0}}))
        pl.DataFrame({"completion": [text] * 4}).write_parquet(tmp_path / f"{name}.samples.parquet")
    out = tmp_path / "effects.md"
    assert effects.main(["--eval-dir", str(tmp_path), "--out", str(out)]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    rows = {r["model"]: r for r in report["models"]}
    assert rows["r1_zero"]["tag_format"] == 1.0 and rows["r1_zero"]["readable_format"] == 0.0
    assert rows["interim"]["readable_format"] == 1.0 and rows["interim"]["language_consistency"] == 1.0
    assert len(report["claims"]) == 5 and all(c["holds"] for c in report["claims"])
    assert "| final | 0.200 |" in out.read_text()
    (tmp_path / "student.json").write_text(json.dumps({"pass@1": 0.01, "mean_response_tokens": 20.0}))
    assert effects.main(["--eval-dir", str(tmp_path), "--out", str(out)]) == 1  # a failed claim fails the check
    claims = json.loads(out.with_suffix(".json").read_text())["claims"]
    assert [c["holds"] for c in claims if "student" in c["claim"]] == [False]


def test_effects_compare_the_distilled_student_with_its_base_as_it_comes(tmp_path):
    from r1.eval import effects

    readable = "|special_token| First, 3 + 4 = 7. |special_token| <answer> 7 </answer>"
    for name, p1 in {"student_base": 0.05, "student": 0.40, "rl_student": 0.10}.items():
        (tmp_path / f"{name}.json").write_text(json.dumps({"metrics": {"pass@1": p1, "mean_response_tokens": 9.0}}))
        pl.DataFrame({"completion": [readable] * 2}).write_parquet(tmp_path / f"{name}.samples.parquet")
    out = tmp_path / "effects.md"
    assert effects.main(["--eval-dir", str(tmp_path), "--out", str(out)]) == 0
    claims = {c["claim"]: c for c in json.loads(out.with_suffix(".json").read_text())["claims"]}
    assert claims["distilled student beats its base as it comes"]["observed"] == "pass@1 0.400 vs 0.050 (+35.0 points)"
    assert claims["distilled student beats the RL-only student"]["observed"].endswith("(+30.0 points)")
    assert [r.split(" |")[0] for r in out.read_text().splitlines() if r.startswith("| s") or r.startswith("| r")] == [
        "| student_base", "| student", "| rl_student"]
    (tmp_path / "student_base.json").write_text(json.dumps({"metrics": {"pass@1": 0.5, "mean_response_tokens": 9.0}}))
    assert effects.main(["--eval-dir", str(tmp_path), "--out", str(out)]) == 1


def test_prompted_countdown_compares_with_the_target_and_sometimes_retries(train):
    """The cold start writes countdown as the base corpus does; without the comparison a miss cannot be seen."""
    import random

    from r1.verify.rewards import get

    rows = [r for r in train.iter_rows(named=True) if r["kind"] == "countdown"]
    rng = random.Random(0)
    texts = [cold_start.prompted_cot(r, rng) for r in rows for _ in range(4)]
    recs = [r for r in rows for _ in range(4)]
    for text, rec in zip(texts, recs):
        assert f"\n{rec['target']} is {rec['target']} |special_token|" in text, text
    retried = [t for t in texts if "\nwait, " in t]
    assert 0.2 < len(retried) / len(texts) < 0.8
    cols = {k: [r[k] for r in recs] for k in recs[0]}
    assert get("accuracy")(texts, **cols) == [1.0] * len(texts)
    math = next(r for r in train.iter_rows(named=True) if r["kind"] == "math")
    assert cold_start.prompted_cot(math, rng) == cold_start.from_solution(math["solution"], math["answer"], "math")
