"""fusion_core.explain."""
