"""fusion_core.preprocess."""
