import dataclasses
import json

import pytest

from r1 import config
from r1.build import paths
from r1.build.artifacts import THROUGHPUT, read_manifest
from r1.build.stage import start
from r1.model import modeling
from r1.stages import base as base_stage
from r1.train import pretrain as base

from helpers.tiny import TINY, write_tasks


@pytest.fixture
def tiny_cfg():
    cfg = config.load("ci")
    bc = dataclasses.replace(cfg.base, model=TINY, corpus_examples=200, vocab_size=400, seq_len=128, batch_size=8,
                             max_steps=4, warmup_steps=2, max_minutes=1.0, bf16=False)
    return dataclasses.replace(cfg, base=bc)


def test_base_trains_a_few_steps_saves_and_loads(tiny_cfg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tasks(tmp_path)
    base_stage.main(start("base", tiny_cfg))
    out = tmp_path / paths.BASE
    curve = (out / base.CURVE).read_text().splitlines()
    assert curve[0] == "step\tloss" and len(curve) >= 2  # tokens/s: the run sidecar's, not the hashed curve
    throughput = (out / THROUGHPUT).read_text().splitlines()
    assert throughput[0] == "step\ttokens_per_s"
    assert [r.split("\t")[0] for r in throughput[1:]] == [r.split("\t")[0] for r in curve[1:]]
    assert read_manifest(out)["stage"] == "base"
    assert set(read_manifest(out)["params"]) == {"seed", "base", "compute"}  # the thread count shapes the weights
    stats = json.loads((out / base.CORPUS_STATS).read_text())
    assert stats["documents"] == 200
    model, tok = modeling.load_model_and_tokenizer(out)
    assert type(model).__name__ == "DeepseekV3ForCausalLM"
    assert type(tok).__name__ in ("PreTrainedTokenizerFast", "TokenizersBackend")
    assert "<think>" in tok.get_vocab()
    assert not list(tmp_path.glob("models/.base.tmp-*"))  # atomic: no leftovers


def test_pretrain_stops_at_the_wall_clock_cap(tiny_cfg):
    import torch

    tok = modeling.train_tokenizer(["a b c 1 2 3"] * 10, 300)
    model = modeling.build_model(TINY, tok)
    x = torch.randint(0, len(tok), (16, 32))
    cfg = dataclasses.replace(tiny_cfg.base, max_steps=10_000, max_minutes=0.02)
    curve = base.pretrain(model, [(x, x.clone(), torch.ones_like(x))], cfg, seed=0)
    assert curve[-1][0] < 10_000


def test_lr_schedule_warms_up_and_decays(tiny_cfg):
    bc = dataclasses.replace(tiny_cfg.base, learning_rate=1.0, warmup_steps=10)
    assert base.lr_at(0.0, bc, 0) == pytest.approx(0.1)
    assert base.lr_at(0.0, bc, 10) == pytest.approx(1.0)
    assert base.lr_at(1.0, bc, 50) == pytest.approx(0.1)


def test_batches_one_document_per_row_prompt_masked():
    import random

    docs = [[5, 6, 7, 8, 1], [5, 6, 9, 1], [5, 7, 1]]
    out = base.batches(docs, 2, 16, 0, [2, 2, 1], random.Random(0))
    rows = [(x[r].tolist(), y[r].tolist(), m[r].tolist()) for x, y, m in out for r in range(len(x))]
    assert sorted(tuple(x[:sum(m)]) for x, _, m in rows) == sorted(tuple(d) for d in docs)
    for x, y, m in rows:
        n = sum(m)
        assert all(v == -100 for v in y[n:]) and y[0] == -100 and y[n - 1] == 1
