"""The evaluation package's user-facing error."""

from __future__ import annotations

from fusion_core.errors import FusionError


class EvaluationError(FusionError):
    """Evaluation inputs that cannot be scored: one class only, lengths that differ, a bad scores file."""
