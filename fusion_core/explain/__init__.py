"""fusion_core.explain: what the models look at, on the image grid (lesion-map heads, cross-modal attention)."""

from fusion_core.explain.maps import attention_maps, attention_on_grid, lesion_maps

__all__ = ["attention_maps", "attention_on_grid", "lesion_maps"]
