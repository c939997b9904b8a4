"""fusion_core.losses."""
