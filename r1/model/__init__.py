"""The models: a miniature DeepSeek-V3 (build, tokenizer, import, save) and batched generation."""
