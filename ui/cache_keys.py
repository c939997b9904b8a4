"""The one place that builds cache keys for ``ui/``'s cached glue (issue 22).

A cached function takes what determines its result as hashable arguments: a case's
:attr:`~fusion_core.case.Case.fingerprint`, a model name, the direction, options. Where it also takes an
unhashable object that Streamlit should not hash on every rerun (a volume, a latent matrix), it skips it
(``_volume``) and takes a key from here beside it that fully determines that object:

- :func:`volume_key`: a digest of a volume's voxels, geometry, modality and name, computed once per object;
- :class:`LatentsKey` (from :func:`latents_key`): the cohort, model, posteriors and settings a latent table
  was encoded from;
- :class:`RegistrationKey` / :class:`NormalisationKey` (from :func:`registration_key` /
  :func:`normalisation_key`): the case, the fixed image (the image normalised) and every option.

Call sites never build key strings by hand (``tests/app/test_cache_keys.py`` checks ``ui/`` and ``pages/``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np

from fusion_core.registration import RegistrationOptions
from fusion_core.volume import Volume
from ui.per_volume import per_volume


def volume_key(volume: Volume) -> str:
    """A digest of everything a volume holds: voxels (dtype and shape too), geometry, modality and name.

    Two volumes with equal keys are interchangeable, so a cache keyed on it cannot return another volume's
    result. Volumes are immutable; the digest is computed once per object (cached results are the same object
    on every rerun, so a rerun costs a dictionary look-up).
    """
    return per_volume(volume, "key", lambda: _digest(volume))


def _digest(volume: Volume) -> str:
    array = np.ascontiguousarray(volume.array)
    digest = hashlib.blake2b(digest_size=12)
    digest.update(repr((array.dtype.str, array.shape, volume.spacing, volume.origin, volume.direction)).encode())
    digest.update(repr((volume.modality, volume.name)).encode())
    digest.update(memoryview(array).cast("B"))
    return f"{volume.modality}:{digest.hexdigest()}"


@dataclasses.dataclass(frozen=True)
class LatentsKey:
    """What a latent table on the Latent Space page was encoded from and how its rows were chosen.

    Attributes:
        source: the cohort choice ("Demo cohort" or a folder).
        folder: the cohort folder ("" for the demo cohort).
        n: the first ``n`` subjects.
        step: every ``step``-th slice.
        model: the encoder model's name.
        posteriors: the posteriors shown, e.g. ("CT", "MR", "joint").
        per_subject: one row per subject (the mean code of its slices) instead of one per slice.
    """

    source: str
    folder: str
    n: int
    step: int
    model: str
    posteriors: tuple[str, ...]
    per_subject: bool = False

    def table(self) -> LatentsKey:
        """The key of the stacked table before rows are chosen (``per_subject`` does not change it)."""
        return dataclasses.replace(self, per_subject=False)


def latents_key(
    source: str, folder: str, n: int, step: int, model: str, posteriors: tuple[str, ...], *, per_subject: bool
) -> LatentsKey:
    """The key of the latent table the page shows (see :class:`LatentsKey`)."""
    return LatentsKey(source, folder, int(n), int(step), model, tuple(posteriors), bool(per_subject))


@dataclasses.dataclass(frozen=True)
class RegistrationKey:
    """What a registration on the Register & Fuse page is determined by (registration is seeded: equal keys,
    equal results).

    Attributes:
        fingerprint: the case's :attr:`~fusion_core.case.Case.fingerprint`.
        fixed_name: the fixed image, "CT" or "MR".
        options: every registration option (transform mode, sampling, multi-start, mask, initialisation, ...).
    """

    fingerprint: str
    fixed_name: str
    options: RegistrationOptions


def registration_key(fingerprint: str, fixed_name: str, **options: Any) -> RegistrationKey:
    """The key of registering a case's other image onto its ``fixed_name`` with ``options`` (fields of
    :class:`~fusion_core.registration.RegistrationOptions`; a bad value raises its ``ValueError``)."""
    return RegistrationKey(fingerprint, fixed_name, RegistrationOptions(**options))


@dataclasses.dataclass(frozen=True)
class NormalisationKey:
    """What a normalisation on the Register & Fuse page is determined by.

    Attributes:
        fingerprint: the case's :attr:`~fusion_core.case.Case.fingerprint`.
        which: the image normalised, "CT" or "MR" (the other one is the reference).
        method: the normalisation method's name.
        options: the method's options as sorted (name, value) pairs.
    """

    fingerprint: str
    which: str
    method: str
    options: tuple[tuple[str, Any], ...] = ()


def normalisation_key(fingerprint: str, which: str, method: str, **options: Any) -> NormalisationKey:
    """The key of normalising a case's ``which`` image with ``method`` and its ``options``."""
    return NormalisationKey(fingerprint, which, method, tuple(sorted(options.items())))
