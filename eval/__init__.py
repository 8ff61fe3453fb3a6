"""Benchmark scorers and checkpoint evaluation, importable as ``mcr.eval``."""
