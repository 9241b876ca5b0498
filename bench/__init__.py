"""Nærvær's benchmark harness: six workloads against real PostgreSQL and a Kafka-protocol broker.

Run ``uv run python -m bench --help`` (or ``uv run naervaer bench --help``) from the repository
root; BENCHMARKS.md explains each workload and the figures last measured. ``python -m
bench.fold_ab`` measures the deadline timeline alone on W6's year (thirteenth round).
"""
