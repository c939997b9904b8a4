"""Cross-modal attention: tokens of one modality's feature map attend to the other's."""

from __future__ import annotations

import torch
from torch import nn


def to_tokens(features: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) feature map -> (B, h*w, C) tokens, row-major over (h, w)."""
    return features.flatten(2).transpose(1, 2)


class CrossModalAttention(nn.Module):
    """Multi-head attention with queries from one modality and keys/values from the other.

    Returns the attended tokens (residual + layer norm) and the attention weights averaged over
    heads, (B, n_query_tokens, n_key_tokens): row i says where query location i looks in the
    other image (reshape to (h, w) to draw it over the image).
    """

    def __init__(self, dim: int, heads: int = 2) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm = nn.LayerNorm(dim)

    def forward(self, query: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """query: (B, Nq, C) tokens; context: (B, Nk, C) tokens."""
        out, weights = self.attn(query, context, context, need_weights=True, average_attn_weights=True)
        return self.norm(query + out), weights
