"""Benchmarks and fault trials for contribkit: `nox -s bench`, `nox -s faults`.

The synthetic histories they measure are the tests' own (tests/history_support.py): the tests
never import the benchmarks, and the benchmarks time exactly what the tests prove.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
