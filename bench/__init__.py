"""Benchmarks of Gatehouse against baselines measured in the same run (see README, Performance)."""
