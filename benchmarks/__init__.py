"""Benchmark scripts: each reruns one published figure of BENCHMARKS.md with one command."""
