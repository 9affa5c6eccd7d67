"""Benchmarks and fault trials for contribkit: `nox -s bench`, `nox -s faults`."""
