"""The one error family of the core: every error a user can cause derives from :class:`FusionError`.

A page's error boundary catches ``FusionError`` and shows its message as it is (the message names
the file, option or model and the problem); anything else is a bug and is shown as a plain
message with the details folded away.
"""

from __future__ import annotations


class FusionError(ValueError):
    """Base class of the core's user-facing errors (a ValueError, so older ``except ValueError`` still works)."""


class CaseError(FusionError):
    """A case cannot do what was asked (no CT/MR pair to align, no transform known, ...)."""
