"""Case: modalities, pairing, and a fingerprint that follows the data, not only the id."""

from __future__ import annotations

from fusion_core.case import Case


def test_modalities_and_pairing(small_ct):
    assert Case("a", ct=small_ct).modalities == ("CT",)
    assert not Case("a", ct=small_ct).is_paired
    assert Case("a", ct=small_ct, mr=small_ct).is_paired


def test_fingerprint_changes_with_voxels_and_geometry_not_only_id(small_ct):
    same = Case("upload", ct=small_ct).fingerprint
    assert same == Case("upload", ct=small_ct).fingerprint
    assert same != Case("upload", ct=small_ct.with_array(small_ct.array + 1)).fingerprint
    shifted = type(small_ct)(small_ct.array, spacing=small_ct.spacing, origin=(0, 0, 1), modality="CT")
    assert same != Case("upload", ct=shifted).fingerprint
    assert same.startswith("upload:") and same != Case("other", ct=small_ct).fingerprint
