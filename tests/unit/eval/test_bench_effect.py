"""bench/r1_zero_effect.py: the issue's thresholds, checked on eval results."""

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"
sys.path.insert(0, str(BENCH))

import r1_zero_effect  # noqa: E402


def _metrics(p1, families, tokens, reflection):
    return {"pass@1": p1, "pass@k": p1 + 0.2, "cons@k": p1, "mean_response_tokens": tokens, "format_rate": 1.0,
            "reflection_rate": reflection, "by_family": {f: {"pass@1": v} for f, v in families.items()}}


def _build(tmp_path, base, zero):
    (tmp_path / "reports" / "eval").mkdir(parents=True)
    for name, m in (("base", base), ("r1_zero", zero)):
        run = {"model": name, "k": 8, "n_items": 3, "items_per_family": {}, "metrics": m}
        (tmp_path / "reports" / "eval" / f"{name}.json").write_text(json.dumps(run))
    return tmp_path


def test_every_claim_holds_exits_zero(tmp_path, capsys):
    base = _metrics(0.30, {"math": 0.3, "code": 0.5}, 20.0, 0.01)
    zero = _metrics(0.60, {"math": 0.6, "code": 0.65}, 30.0, 0.03)
    assert r1_zero_effect.main([str(_build(tmp_path, base, zero))]) == 0
    assert "| pass@1 overall +25 points | +30.0 | yes |" in capsys.readouterr().out


def test_a_family_below_ten_points_or_flat_reflection_fails(tmp_path, capsys):
    base = _metrics(0.30, {"math": 0.3, "code": 0.5}, 20.0, 0.01)
    zero = _metrics(0.60, {"math": 0.9, "code": 0.55}, 30.0, 0.015)
    assert r1_zero_effect.main([str(_build(tmp_path, base, zero))]) == 1
    out = capsys.readouterr().out
    assert "| pass@1 code +10 points | +5.0 | NO |" in out
    assert "reflection rate x2 | 1.0% -> 1.5% (x1.5) | NO |" in out
    rows = dict((c, h) for c, _, h in r1_zero_effect.claims(base, {**zero, "reflection_rate": 0.0}))
    assert rows["reflection rate x2"] is False and rows["pass@1 math +10 points"] is True
