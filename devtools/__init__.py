"""Helpers for the tests and the benchmarks alike; the app never imports them."""
