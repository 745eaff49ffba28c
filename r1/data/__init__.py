"""Training data: the pretraining corpus, the readable long-CoT pattern, rejection sampling and its filters, and the
non-reasoning and preference sets."""

# The kinds of non-reasoning example (R1's writing, factual QA, self-cognition and translation data).
NON_REASONING_CATEGORIES = ("writing", "factual_qa", "self_cognition", "translation")
