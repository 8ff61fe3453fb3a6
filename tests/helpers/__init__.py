"""Helpers shared by the test modules: run arguments, and fixture writers in the official formats."""
