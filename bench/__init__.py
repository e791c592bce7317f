"""Benchmarks of jaxact; run from the repository root, e.g. ``python -m bench.micro``."""
