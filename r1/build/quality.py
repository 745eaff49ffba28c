"""A Great Expectations gate for any stage's dataset.

    report = check(df, "tasks", [gxe.ExpectColumnValuesToBeUnique(column="id"), ...])
    report.add("no_overlap", ok, observed=n, examples=[...])   # a check computed outside GX, kept in the report
    require(report)                                            # raises QualityError listing every failure

GX 1.x validates `df.to_pandas()` through one ephemeral context per process (importing GX takes seconds; the context
itself is cheap). GX reports failures in `.success` and does not raise, so `require` is what fails the stage.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

N_EXAMPLES = 5
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no network at run time
_asset_ids = itertools.count()


class QualityError(ValueError):
    """A dataset failed its expectation suite; the message lists each failed expectation."""


@dataclass
class Result:
    expectation: str
    success: bool
    column: str | None = None
    kwargs: dict = field(default_factory=dict)
    observed: Any = None
    examples: list = field(default_factory=list)
    error: str | None = None

    def describe(self) -> str:
        where = f" on column {self.column!r}" if self.column else ""
        args = {k: v for k, v in self.kwargs.items() if k != "column"}
        lines = [f"FAILED {self.expectation}{where}" + (f" {args}" if args else "")]
        if self.observed is not None:
            lines.append(f"    observed: {self.observed}")
        if self.examples:
            lines.append(f"    examples: {self.examples}")
        if self.error:
            lines.append(f"    error: {self.error}")
        return "\n".join(lines)


@dataclass
class QualityReport:
    suite: str
    n_rows: int
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if not r.success]

    def add(self, name: str, success: bool, observed: Any = None, examples: list | None = None,
            column: str | None = None) -> None:
        """Record a check computed outside GX."""
        self.results.append(Result(name, bool(success), column, {}, observed, list(examples or [])[:N_EXAMPLES]))

    def summary(self) -> str:
        head = (f"quality suite {self.suite!r}: {len(self.results) - len(self.failed)}/{len(self.results)} "
                f"expectations passed on {self.n_rows} rows")
        return "\n".join([head] + [r.describe() for r in self.failed])

    def to_dict(self) -> dict:
        """What goes into an artifact's quality.json: no timing (`seconds`), so two builds write the same bytes."""
        return {"suite": self.suite, "success": self.success, "n_rows": self.n_rows,
                "results": [asdict(r) for r in self.results]}


@functools.cache
def _context():
    start = time.time()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    print(f"[quality] Great Expectations ready in {time.time() - start:.1f}s (import; once per process)",
          file=sys.stderr, flush=True)
    return context, context.data_sources.add_pandas("r1_frames")


def gx():
    """The great_expectations module, imported once per process (it takes seconds; the time is logged)."""
    _context()
    import great_expectations

    return great_expectations


def check(df: pl.DataFrame, suite_name: str, expectations: list) -> QualityReport:
    """Validate `df` against GX expectation objects (great_expectations.expectations.Expect...)."""
    import great_expectations as gx

    start = time.time()
    _, source = _context()
    pdf = df.to_pandas()
    asset = source.add_dataframe_asset(f"{suite_name}-{next(_asset_ids)}")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": pdf})
    suite = gx.ExpectationSuite(name=suite_name)
    for expectation in expectations:
        # A copy, so the caller's objects can go into several suites.
        suite.add_expectation(expectation.copy(update={"id": None}, deep=True))
    outcome = batch.validate(suite, result_format={"result_format": "SUMMARY",
                                                   "partial_unexpected_count": N_EXAMPLES})
    source.delete_asset(asset.name)
    ids = pdf["id"] if "id" in pdf.columns else None
    report = QualityReport(suite_name, len(df))
    for res in outcome.results:
        config, info, exc = res.expectation_config, res.result or {}, res.exception_info or {}
        examples = info.get("partial_unexpected_list") or []
        index = info.get("partial_unexpected_index_list") or []
        if ids is not None and index and len(index) == len(examples):
            examples = [f"{ids.iloc[i]}: {v!r}" for i, v in zip(index, examples)]
        observed = info.get("observed_value")
        if observed is None and info.get("unexpected_count") is not None:
            observed = f"{info['unexpected_count']} of {info.get('element_count')} rows unexpected"
        report.results.append(Result(
            expectation=config.type, success=bool(res.success), column=config.kwargs.get("column"),
            kwargs=_kwargs(config.kwargs), observed=_plain(observed), examples=_plain(examples[:N_EXAMPLES]),
            error=_exception_message(exc)))
    report.seconds = time.time() - start
    return report


def require(report: QualityReport) -> QualityReport:
    if not report.success:
        raise QualityError(report.summary())
    return report


def _kwargs(kwargs) -> dict:
    out = {k: _plain(v) for k, v in kwargs.items() if k != "batch_id"}
    if isinstance(out.get("row_condition"), dict):  # readable: "kind == 'math' and origin == 'synthetic'"
        out["row_condition"] = _condition(out["row_condition"])
    return out


def _condition(cond: dict):
    if cond.get("type") == "comparison":
        return f"{cond['column']['name']} {cond['operator']} {cond['parameter']!r}"
    if cond.get("type") in ("and", "or") and cond.get("conditions"):
        parts = [_condition(c) for c in cond["conditions"]]
        if all(isinstance(p, str) for p in parts):
            return f" {cond['type']} ".join(parts)
    return cond


def _exception_message(info: dict) -> str | None:
    """GX puts one exception at the top level, or several keyed by metric; keep the distinct messages."""
    found = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    messages = sorted({f.get("exception_message") or "" for f in found if f.get("raised_exception")})
    return "; ".join(messages) or None


def _plain(value):
    """JSON-friendly: GX hands back numpy scalars/arrays and pydantic row conditions."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "dict"):
        return _plain(value.dict())
    return str(value)
