"""Benchmarks of the record lifecycle on a throwaway local stack: ``python -m bench`` (see bench/README.md)."""
