"""Synthetic data generators for demos, tests and benchmarks (one module per modality)."""
