"""fusion_core.fusion."""
