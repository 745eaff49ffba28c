"""Evaluation: pass@1 / cons@k scoring, the report, and the checks of R1's findings in miniature."""
