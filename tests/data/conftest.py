"""Phantom fixtures: one noise-free default-size subject shared by the tissue-value tests."""

from __future__ import annotations

import pytest

from fusion_core.data.phantom import PhantomSubject, make_subject
from fusion_core.data.sites import ScannerSite

CLEAN_SITE = ScannerSite(name="clean", ct_blur_mm=0.0, ct_noise_hu=0.0, mr_blur_mm=0.0, mr_noise=0.0, mr_bias=0.0)


@pytest.fixture(scope="module")
def clean_subject() -> PhantomSubject:
    """Default-size (128) subject with no noise, blur or bias, and a calcified lesion."""
    return make_subject(5, site=CLEAN_SITE, label=1, lesion_type="calcified")


@pytest.fixture(scope="module")
def small_subject() -> PhantomSubject:
    """A small (48) noisy site-A subject with an oedema lesion."""
    return make_subject(7, size=48, label=1, lesion_type="oedema")
