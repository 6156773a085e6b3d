"""Benchmark scripts (run them as files: see README.md); a package so that they share modules."""
