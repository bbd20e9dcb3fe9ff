"""Benchmarks: `python -m bench` runs them all; `python -m bench.<name>` runs one.

Each module exposes ``main()`` printing each figure with its ratio to the target named in the
issue. Nothing here asserts a timing: machines are noisy, so compare ratios within one run.
"""
