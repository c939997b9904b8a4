"""fusion_core.evaluation."""
