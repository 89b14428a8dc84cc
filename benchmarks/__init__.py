"""Cohort's performance suite: `make bench` or `python -m benchmarks [--quick]`."""
