"""Latent Space figures: one global row id per point, pair lines between CT and MR codes of a slice."""

import numpy as np
import pandas as pd
import pytest

from fusion_core.viz.scatter import COLOUR_BY, canonical_figure, latent_scatter, link_segments, slice_thumbnail


@pytest.fixture
def meta():
    rows = [
        {"subject_id": f"s{s}", "slice": i, "n_slices": 4, "label": float(s), "lesion_type": "oedema", "site": "A",
         "scans": "CT + MR", "posterior": p, "slice_has_lesion": float(i == 1)}
        for p in ("CT", "MR") for s in range(2) for i in range(4)
    ]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize("colour_by", COLOUR_BY)
def test_every_point_carries_its_row_id(meta, colour_by):
    coords = np.random.default_rng(0).normal(size=(len(meta), 2))
    fig = latent_scatter(coords, meta, colour_by=colour_by, links=True)
    points = [t for t in fig.data if t.mode == "markers"]
    ids = sorted(i for t in points for i in t.customdata)
    assert ids == list(range(len(meta)))
    assert fig.layout.dragmode == "lasso"


def test_links_join_each_ct_code_to_its_mr_code(meta):
    coords = np.arange(2 * len(meta), dtype=float).reshape(-1, 2)
    xs, ys = link_segments(coords, meta)
    assert ys[0] == coords[0, 1]
    assert len(xs) == 3 * 8 and xs[2] is None
    assert xs[0] == coords[0, 0] and xs[1] == coords[8, 0]  # CT row 0 pairs with MR row 8 (same subject, slice)


def test_canonical_figure_and_thumbnail_outline():
    assert len(canonical_figure(np.array([0.9, 0.5])).data[0].y) == 2
    mask = np.zeros((16, 16))
    mask[4:10, 4:10] = 1
    rgb = slice_thumbnail(np.full((16, 16), 40.0), (40.0, 80.0), mask)
    assert rgb.shape == (16, 16, 3) and tuple(rgb[4, 6]) == (255, 60, 60) and tuple(rgb[6, 6]) != (255, 60, 60)
