"""fusion_core.data."""
