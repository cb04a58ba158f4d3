"""Benchmarks of the local road (generate, extract, load, dbt build, `shopstream run`) against the course's approach.

Run with `make bench` or `python -m bench --help`; results go to docs/BENCHMARKS.md. `bench.baseline` holds the
course's approach, kept for measurement only.
"""
