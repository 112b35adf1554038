"""Benchmarks: every speed claim measured against a reference in the same run (`make bench`)."""
