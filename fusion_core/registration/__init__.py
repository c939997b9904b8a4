"""fusion_core.registration."""
