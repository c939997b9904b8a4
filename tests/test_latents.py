"""encode_cohort: latents of every slice of a cohort with who each slice is."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from fusion_core.data.phantom import make_subject
from fusion_core.errors import FusionError
from fusion_core.evaluation.latent_metrics import nearest_neighbours
from fusion_core.inference import as_loaded
from fusion_core.latents import (
    LatentTable,
    alignment_numbers,
    encode_cohort,
    encode_cohort_posteriors,
    latents_frame,
    load_table,
    project,
    retrieval_chance,
    retrieval_recall,
    save_table,
    stack_tables,
    subject_means,
)
from fusion_core.models import EncoderConfig, MultimodalVAE, VAEConfig


@pytest.fixture(scope="module")
def vae():
    torch.manual_seed(0)
    return as_loaded(
        MultimodalVAE(VAEConfig(encoder=EncoderConfig(image_size=32, base_channels=8, n_down=2), latent_dim=6))
    )


@pytest.fixture(scope="module")
def cases():
    return [make_subject(seed, size=24, label=seed % 2).to_case() for seed in (1, 2)]


@pytest.mark.parametrize("posterior", ["joint", "CT", "MR"])
def test_encode_cohort_rows_match_slices(vae, cases, posterior):
    table = encode_cohort(vae, cases, posterior=posterior, slice_step=2)
    n = sum(len(range(0, c.ct.shape[0], 2)) for c in cases)
    assert table.latents.shape == (n, 6) and len(table.meta) == n
    assert set(table.meta["subject_id"]) == {c.subject_id for c in cases}
    assert (table.meta["posterior"] == posterior).all()
    assert set(table.meta["slice_has_lesion"].dropna()) <= {0.0, 1.0}


def test_posteriors_differ_and_unknown_is_refused(vae, cases):
    ct = encode_cohort(vae, cases, posterior="CT").latents
    mr = encode_cohort(vae, cases, posterior="MR").latents
    assert not np.allclose(ct, mr)
    with pytest.raises(FusionError, match="unknown posterior"):
        encode_cohort(vae, cases, posterior="PET")


def test_posteriors_at_once_equal_one_at_a_time(vae, cases):
    unpaired = make_subject(3, size=24, label=1).to_case()
    mr_only = dataclasses.replace(unpaired, ct=None, masks={})
    together = encode_cohort_posteriors(vae, [*cases, mr_only], ["CT", "MR", "joint"], slice_step=2)
    for posterior, table in together.items():
        alone = encode_cohort(vae, [*cases, mr_only], posterior=posterior, slice_step=2, skip_missing=True)
        np.testing.assert_allclose(table.latents, alone.latents, rtol=1e-5, atol=1e-6)
        pd.testing.assert_frame_equal(table.meta, alone.meta)
    assert "MR only" not in set(together["CT"].meta["scans"]) and "MR only" in set(together["MR"].meta["scans"])
    with pytest.raises(FusionError, match="unknown posterior"):
        encode_cohort_posteriors(vae, cases, ["PET"])


def _meta(n_subjects: int, n_slices: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subject_id": np.repeat([f"s{i}" for i in range(n_subjects)], n_slices),
            "slice": np.tile(np.arange(n_slices), n_subjects),
        }
    )


def test_identical_latents_retrieve_every_partner():
    meta = _meta(4, 10)
    z = np.random.default_rng(0).normal(size=(len(meta), 8))
    assert retrieval_recall(z, z.copy(), meta, meta) == {1: 1.0, 5: 1.0, 10: 1.0}


def test_random_latents_retrieve_at_chance():
    meta = _meta(10, 20)
    rng = np.random.default_rng(1)
    recalls = [retrieval_recall(rng.normal(size=(200, 6)), rng.normal(size=(200, 6)), meta, meta) for _ in range(5)]
    chance = retrieval_chance(meta, meta)
    # 3 partner slices (±1) of 200 (2 at the volume's ends): ~1.5 % at k=1, ~14 % at k=10.
    assert 0.01 < chance[1] < 0.02 and 0.12 < chance[10] < 0.16
    for k in (1, 5, 10):
        assert abs(np.mean([r[k] for r in recalls]) - chance[k]) < 0.04


def test_chance_is_exact_on_a_tiny_cohort():
    # One CT slice, 4 MR slices, 1 partner (tolerance 0): P(hit in top k) = k/4.
    ct, mr = _meta(1, 1), pd.DataFrame({"subject_id": ["s0", "x", "y", "z"], "slice": [0, 0, 0, 0]})
    assert retrieval_chance(ct, mr, ks=(1, 2, 4), tolerance=0) == pytest.approx({1: 0.25, 2: 0.5, 4: 1.0})


def test_retrieval_refuses_mismatched_metadata():
    with pytest.raises(FusionError, match="one metadata row per latent"):
        retrieval_recall(np.zeros((3, 2)), np.zeros((2, 2)), _meta(1, 2), _meta(1, 2))


@pytest.mark.parametrize("method", ["pca", "tsne", pytest.param("umap", marks=pytest.mark.slow)])
def test_projection_shape_and_determinism(method):
    z = np.random.default_rng(2).normal(size=(40, 70)).astype(np.float32)
    a, b = project(z, method=method, seed=3), project(z, method=method, seed=3)
    assert a.shape == (40, 2) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_projection_refuses_unknown_method_and_too_few_rows():
    with pytest.raises(FusionError, match="allowed values"):
        project(np.zeros((5, 3)), method="mds")
    with pytest.raises(FusionError, match="at least 3"):
        project(np.zeros((2, 3)), method="pca")


def test_table_round_trips_on_disk_and_stacks(vae, cases, tmp_path):
    ct = encode_cohort(vae, cases, posterior="CT", slice_step=4)
    save_table(ct, tmp_path / "t.npz")
    back = load_table(tmp_path / "t.npz")
    np.testing.assert_array_equal(back.latents, ct.latents)
    pd.testing.assert_frame_equal(back.meta, ct.meta, check_dtype=False)
    both = stack_tables([ct, encode_cohort(vae, cases, posterior="MR", slice_step=4)])
    assert len(both.meta) == 2 * len(ct.meta)


def test_alignment_numbers_of_identical_codes():
    meta = _meta(6, 12)
    z = np.random.default_rng(3).normal(size=(len(meta), 5)).astype(np.float32)
    table_meta = pd.concat([meta.assign(posterior=p) for p in ("CT", "MR")], ignore_index=True)
    table_meta["slice_has_lesion"] = (table_meta["slice"] > 6).astype(float)
    table_meta["label"] = np.nan
    numbers = alignment_numbers(LatentTable(np.r_[z, z], table_meta), k=5)
    assert numbers.recall == {1: 1.0, 5: 1.0, 10: 1.0} and numbers.n_pairs == 72
    assert numbers.correlations[0] == pytest.approx(1.0)
    assert numbers.separated == "lesion in the slice"
    assert list(nearest_neighbours(np.r_[z, z], 1, rows=[0])[0]) == [72]  # its MR twin
    frame = latents_frame(table_meta, np.r_[z, z], np.zeros((144, 2)), "UMAP")
    assert {"umap_1", "umap_2", "z0", "z4", "subject_id"} <= set(frame.columns)


def test_subject_means_one_row_per_subject_and_posterior(vae, cases):
    table = stack_tables([encode_cohort(vae, cases, posterior=p, slice_step=4) for p in ("CT", "MR")])
    means = subject_means(table)
    assert len(means.meta) == 2 * len(cases) and means.latents.shape[1] == table.latents.shape[1]
    first = (table.meta["subject_id"] == cases[0].subject_id) & (table.meta["posterior"] == "CT")
    np.testing.assert_allclose(means.latents[0], table.latents[first.to_numpy()].mean(0), rtol=1e-5)
