"""An imported instruct model reads its prompts through its own chat template, and every model trained from it too."""

import pytest

from helpers import tiny  # noqa: E402

from r1.config.loader import ConfigError  # noqa: E402
from r1.model import modeling  # noqa: E402
from r1.model.generate import generate  # noqa: E402
from r1.tasks.schema import r1_zero_prompt  # noqa: E402

CHAT = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}")


@pytest.fixture
def chat_model():
    tok = tiny.plain_tokenizer()
    tok.chat_template = CHAT
    tok.padding_side = "left"
    modeling.set_prompt_format(tok, "chat")
    return tiny.model(tok), tok


def test_chat_prompts_go_through_the_template_and_text_prompts_do_not(chat_model):
    _, tok = chat_model
    prompt = r1_zero_prompt("What is 2 + 3?")
    assert modeling.as_model_prompts(tok, [prompt]) == [f"<|user|>{prompt}\n<|assistant|>"]
    modeling.set_prompt_format(tok, "text")
    assert modeling.as_model_prompts(tok, [prompt]) == [prompt]
    assert modeling.prompt_format(tiny.plain_tokenizer()) == "text"  # our own tokenizers: as they are


def test_the_format_travels_with_the_saved_tokenizer(chat_model, tmp_path):
    """A student trained from an imported instruct base is saved with the base's tokenizer: it must keep reading
    prompts the same way."""
    model, tok = chat_model
    modeling.save_model_and_tokenizer(model, tok, tmp_path / "a")
    _, loaded = modeling.load_model_and_tokenizer(tmp_path / "a")
    assert modeling.prompt_format(loaded) == "chat"
    modeling.save_model_and_tokenizer(model, loaded, tmp_path / "b")  # a second generation of saves
    assert modeling.prompt_format(modeling.load_tokenizer(tmp_path / "b")) == "chat"


def test_chat_needs_a_template_and_a_known_format():
    tok = tiny.plain_tokenizer()
    with pytest.raises(ValueError, match="chat template"):
        modeling.set_prompt_format(tok, "chat")
    with pytest.raises(ValueError, match="prompt_format"):
        modeling.set_prompt_format(tok, "markdown")


def test_generate_gives_a_chat_model_its_template(chat_model, monkeypatch):
    """The model sees the templated prompt: the same completions as generating from the hand-templated prompt with
    the format off."""
    from r1.model import generate as generate_mod

    model, tok = chat_model
    prompts = [r1_zero_prompt("What is 2 + 3?"), r1_zero_prompt("Add 4 and 5.")]
    wrapped = [f"<|user|>{p}\n<|assistant|>" for p in prompts]
    got = generate((model, tok), prompts, n=2, temperature=0.7, max_new_tokens=8, seed=3)
    seen = []
    real = generate_mod._hf_generate
    monkeypatch.setattr(generate_mod, "_hf_generate", lambda m, t, p, *a: seen.append(list(p)) or real(m, t, p, *a))
    generate((model, tok), prompts, n=2, temperature=0.7, max_new_tokens=8, seed=3)
    modeling.set_prompt_format(tok, "text")
    assert got == generate((model, tok), wrapped, n=2, temperature=0.7, max_new_tokens=8, seed=3)
    generate((model, tok), prompts, n=1, max_new_tokens=2)
    assert seen == [wrapped, wrapped, prompts]


def test_grpo_rows_keep_the_task_prompt_for_the_verifiers(chat_model):
    from r1.train.grpo import as_model_rows

    _, tok = chat_model
    rows = [{"prompt": r1_zero_prompt("What is 2 + 3?"), "kind": "math", "answer": "5"}]
    given = as_model_rows(rows, tok)
    assert given[0]["prompt"] == f"<|user|>{rows[0]['prompt']}\n<|assistant|>"
    assert given[0]["question"] == rows[0]["prompt"] and given[0]["answer"] == "5"
    modeling.set_prompt_format(tok, "text")
    assert as_model_rows(rows, tok) is rows  # our own models: the rows as they were (same run key, same artifact)


def test_a_base_pretrained_here_cannot_be_given_a_chat_format():
    from r1 import config

    raw = config.load_raw("ci")
    raw["base"]["prompt_format"] = "chat"
    with pytest.raises(ConfigError, match="prompt_format"):
        config.validate(raw)
