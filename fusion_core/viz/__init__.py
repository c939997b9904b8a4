"""fusion_core.viz."""
