"""fusion_core.training."""
