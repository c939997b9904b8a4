"""fusion_core.models."""
