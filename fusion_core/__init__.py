"""Fusion Explorer's engine: CT/MR I/O, registration, fusion models and their evaluation.

Importing this package never imports streamlit; heavy optional dependencies (umap, torch
models) are imported by the submodules that need them.
"""

__version__ = "0.1.0"
