"""Training progress in tokens/s: a fresh run from its start, a resumed run from its second log."""

from types import SimpleNamespace

from r1.train import callbacks


def test_a_fresh_run_counts_from_its_start_and_a_resumed_run_from_its_next_log(monkeypatch):
    now = iter([100.0, 102.0, 106.0, 500.0, 504.0])
    monkeypatch.setattr(callbacks.time, "time", lambda: next(now))
    rate = callbacks.TokenRate()
    rate.begin(SimpleNamespace(global_step=0))                   # t=100, 0 tokens
    assert rate({"num_tokens": 400}) == 200.0                    # t=102
    assert rate({"num_tokens": 1200.0}) == 200.0                 # t=106
    assert rate({"loss": 1.0}) is None                           # no token count: no rate (and no clock read)
    rate.begin(SimpleNamespace(global_step=40))                  # resumed: the count may include earlier tokens
    assert rate({"num_tokens": 9000}) is None                    # t=500
    assert rate({"num_tokens": 9800}) == 200.0                   # t=504
