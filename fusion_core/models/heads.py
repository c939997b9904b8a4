"""Classification heads that predict a logit and its aleatoric log-variance, with optional MC dropout."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn


class HeadOutput(NamedTuple):
    """Per-branch prediction, each (B,).

    Attributes:
        logit: mean logit over MC samples.
        log_var: predicted aleatoric log-variance of the logit (mean over MC samples).
        epistemic: variance of the logit over MC-dropout samples (0 with one sample).
    """

    logit: torch.Tensor
    log_var: torch.Tensor
    epistemic: torch.Tensor


class UncertainHead(nn.Module):
    """Embedding (B, E) -> (logit, log-variance) through dropout and a small MLP."""

    def __init__(self, embed_dim: int, dropout: float) -> None:
        super().__init__()
        self.dropout = dropout
        self.hidden = nn.Linear(embed_dim, embed_dim)
        self.out = nn.Linear(embed_dim, 2)

    def once(self, emb: torch.Tensor, *, mc: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """One dropout pass: (B, E) embedding -> (logit, log-variance), each (B,); ``mc`` keeps dropout on in eval."""
        h = nn.functional.dropout(emb, self.dropout, training=self.training or mc)
        h = nn.functional.dropout(nn.functional.silu(self.hidden(h)), self.dropout, training=self.training or mc)
        logit, log_var = self.out(h).unbind(dim=1)
        return logit, log_var.clamp(-8.0, 8.0)

    def forward(self, emb: torch.Tensor, mc_samples: int = 1) -> HeadOutput:
        """One pass (mc_samples=1, dropout only in training) or MC dropout with ``mc_samples`` passes."""
        if mc_samples <= 1:
            logit, log_var = self.once(emb, mc=False)
            return HeadOutput(logit, log_var, torch.zeros_like(logit))
        draws = [self.once(emb, mc=True) for _ in range(mc_samples)]
        logits = torch.stack([d[0] for d in draws])
        log_vars = torch.stack([d[1] for d in draws])
        return HeadOutput(logits.mean(0), log_vars.mean(0), logits.var(0, unbiased=True))
