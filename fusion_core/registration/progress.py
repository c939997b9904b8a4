"""Turn optimizer iteration events into a 0..1 progress fraction and a message for the UI."""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[float, str], None]


class ProgressTracker:
    """Weighted phases (e.g. the multi-start runs, then each pyramid level); calls ``progress(fraction, message)``.

    Args:
        progress: user callback or None.
        weights: relative weight of each phase, in the order they run.
    """

    def __init__(self, progress: ProgressFn | None, weights: list[float]) -> None:
        total = float(sum(weights)) or 1.0
        self._progress = progress
        self._starts = [sum(weights[:i]) / total for i in range(len(weights))]
        self._sizes = [w / total for w in weights]
        self._phase = 0
        self._label = ""
        self._max_iterations = 1

    def begin(self, phase: int, label: str, max_iterations: int) -> None:
        """Start phase ``phase`` (``label`` in messages) of up to ``max_iterations`` iterations."""
        self._phase, self._label, self._max_iterations = phase, label, max(1, max_iterations)
        self._emit(0.0, f"{label}: starting")

    def step(self, iteration: int, metric: float) -> None:
        """Report iteration ``iteration`` of the current phase and its metric."""
        self._emit(
            min(1.0, iteration / self._max_iterations), f"{self._label}: iteration {iteration}, metric {metric:.4f}"
        )

    def done(self, message: str) -> None:
        """Report completion with ``message``."""
        if self._progress is not None:
            self._progress(1.0, message)

    def _emit(self, within: float, message: str) -> None:
        if self._progress is None:
            return
        phase = min(self._phase, len(self._starts) - 1)
        self._progress(min(0.999, self._starts[phase] + within * self._sizes[phase]), message)
