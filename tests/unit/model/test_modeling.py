import pytest
import torch

from r1.model import modeling
from r1.config import ModelShape
from r1.tasks.schema import r1_zero_prompt

from helpers.tiny import TEXTS, TINY

@pytest.fixture(scope="module")
def tok():
    return modeling.train_tokenizer(TEXTS, 300)


def test_tokenizer_round_trip_and_reload_same_ids(tok, tmp_path):
    text = TEXTS[17] + " wait, check: 12 - 5 = 7\n|special_token| done"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == text
    tok.save_pretrained(tmp_path)
    again = modeling.load_tokenizer(tmp_path)
    assert again(text, add_special_tokens=False)["input_ids"] == ids
    assert (again.eos_token_id, again.pad_token_id, len(again)) == (tok.eos_token_id, tok.pad_token_id, len(tok))
    assert again.eos_token_id != again.pad_token_id


def test_tags_are_ordinary_tokens_that_survive_skip_special(tok):
    for tag in modeling.TAGS:
        ids = tok(tag, add_special_tokens=False)["input_ids"]
        assert len(ids) == 1, tag
    text = " <think> 1 + 2 = 3 </think> <answer> 3 </answer>"
    ids = tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    assert tok.decode(ids, skip_special_tokens=True) == text


def test_template_costs_few_tokens_and_frequent_numbers_are_one_token(tok):
    prompt = r1_zero_prompt("What is 12 + 4?")
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    assert len(ids) < 20
    tok = modeling.train_tokenizer(TEXTS, 1000)  # room for every merge these texts offer
    for n in (3, 14, 17, 28):  # operands and sums in the training texts: one token each
        assert len(tok.tokenize(f" {n}")) == 1, n
    pieces = tok.tokenize(" 4831")  # never seen: digit pieces, no word merged into them
    assert len(pieces) > 1 and tok.convert_tokens_to_string(pieces) == " 4831"
    assert tok.tokenize(" 17 apples")[0] == tok.tokenize(" 17")[0]


def test_chat_template_marks_generation(tok):
    msgs = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]
    out = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    assert sum(out["assistant_masks"]) > 0


def test_model_is_a_miniature_deepseek_v3_and_saves(tok, tmp_path):
    model = modeling.build_model(TINY, tok)
    assert type(model).__name__ == "DeepseekV3ForCausalLM"
    layers = model.model.layers
    assert type(layers[0].mlp).__name__ == "DeepseekV3MLP" and type(layers[1].mlp).__name__ == "DeepseekV3MoE"
    assert hasattr(layers[0].self_attn, "kv_a_proj_with_mqa")  # MLA
    modeling.save_model_and_tokenizer(model, tok, tmp_path)
    model2, tok2 = modeling.load_model_and_tokenizer(tmp_path)
    x = torch.tensor([tok(TEXTS[0])["input_ids"]])
    with torch.no_grad():
        assert torch.allclose(model(x).logits, model2(x).logits, atol=1e-5)
    out = model2.generate(x[:, :10], max_new_tokens=5, do_sample=False)
    assert out.shape[1] == 15 or tok2.eos_token_id in out[0].tolist()


def test_import_path_errors_are_clear():
    with pytest.raises(FileNotFoundError, match="not installed"):
        modeling.resolve_import_path("pkg:no_such_package_xyz/model.gguf")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        modeling.resolve_import_path("/no/such/dir")
