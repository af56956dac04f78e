"""Generators of the embedded demo data (Digits-LT, LT-Shapes), framework-free; ``tools/data/make_demo_data.py``
runs them."""
