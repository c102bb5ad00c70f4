"""Lecture presets, one data-only module per group of pages (no TensorFlow imports here)."""
