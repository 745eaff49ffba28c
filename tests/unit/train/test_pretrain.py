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

from helpers.tiny import TINY, CapAt, write_tasks
from r1.build.clock import CapReached


@pytest.fixture
def tiny_cfg():
    cfg = config.load("ci")
    bc = dataclasses.replace(cfg.base, model=TINY, corpus_examples=200, vocab_size=400, seq_len=128, batch_size=8,
                             max_steps=4, warmup_steps=2, bf16=False)
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


def _pretrain(tiny_cfg, **kw):
    import torch

    tok = modeling.train_tokenizer(["a b c 1 2 3"] * 10, 300)
    model = modeling.build_model(TINY, tok, seed=0)
    gen = torch.Generator().manual_seed(0)
    data = [(x, x.clone(), torch.ones_like(x)) for x in torch.randint(0, len(tok), (3, 4, 16), generator=gen)]
    cfg = dataclasses.replace(tiny_cfg.base, max_steps=10, warmup_steps=2)
    curve = base.pretrain(model, data, cfg, seed=0, log_every=4, **kw)
    return model, curve


def test_a_capped_pretraining_fails_then_resumes_to_the_same_weights_and_curve(tiny_cfg, tmp_path):
    """A time cap never shortens pretraining: it stops with CapReached and a saved state (mid logging window here),
    and the rerun ends where an uninterrupted run ends, bit for bit."""
    whole, whole_curve = _pretrain(tiny_cfg)
    with pytest.raises(CapReached, match=r"time_caps.minutes.test = 1 min reached at step 5 of 10"):
        _pretrain(tiny_cfg, cap=CapAt(6), work=tmp_path)
    assert (tmp_path / base.STATE).exists()
    resumed, resumed_curve = _pretrain(tiny_cfg, work=tmp_path)
    assert [(s, loss) for s, loss, _ in resumed_curve] == [(s, loss) for s, loss, _ in whole_curve]
    assert [s for s, _, _ in whole_curve] == [1, 4, 8, 10]
    assert all(a.equal(b) for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()))


def test_the_learning_rate_follows_the_step_not_the_clock(tiny_cfg, monkeypatch):
    """A clock that jumps an hour at every look changes nothing: no schedule reads it."""
    import time as time_mod

    whole, curve = _pretrain(tiny_cfg)
    ticks = iter(range(0, 10**9, 3600))
    monkeypatch.setattr(time_mod, "time", lambda: float(next(ticks)))
    monkeypatch.setattr(time_mod, "monotonic", lambda: float(next(ticks)))
    jumped, jumped_curve = _pretrain(tiny_cfg)
    assert [(s, loss) for s, loss, _ in jumped_curve] == [(s, loss) for s, loss, _ in curve]
    assert all(a.equal(b) for a, b in zip(whole.state_dict().values(), jumped.state_dict().values()))


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
