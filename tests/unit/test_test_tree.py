"""The test tree itself: pytest imports test files by basename (no __init__.py), so two files of one name in
different folders stop the whole suite at collection."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent


def test_every_test_file_has_its_own_basename():
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert not [n for n, k in names.items() if k > 1], sorted(TESTS.rglob("test_*.py"))
