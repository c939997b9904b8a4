"""The one error registration raises for unusable input."""

from __future__ import annotations

from fusion_core.errors import FusionError


class RegistrationError(FusionError):
    """Inputs that cannot be registered (no overlap, a constant image, a 2-D/3-D mix, ...).

    The message names the image and the problem.
    """
