import numpy as np
import pandas as pd
import pytest

from fusion_core.evaluation import auc_score, write_scores
from fusion_core.teaching.architectures import ARCHITECTURES, TRADE_OFFS, measured_auc, measured_aucs, trade_off_rows


def _scores(tmp_path, name, strength, *, mr_column=True, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], 30)
    noisy = lambda s: 1 / (1 + np.exp(-(s * (2 * labels - 1) + rng.normal(size=labels.size))))  # noqa: E731
    frame = pd.DataFrame(
        {
            "subject_id": [f"s{i}" for i in range(labels.size)],
            "label": labels,
            "lesion_type": "none",
            "site": "A",
            "spec": "demo",
            "split": "test",
            "score[CT+MR-T1+MR-T2]": noisy(strength),
            "score[CT]": noisy(strength / 3),
        }
    )
    if mr_column:
        frame["score[MR-T1+MR-T2]"] = noisy(strength / 2)
    write_scores(frame, tmp_path / name)
    return frame


def test_measured_auc_reads_the_shipped_scores(tmp_path):
    frame = _scores(tmp_path, "clf-early", 2.0)
    full = measured_auc(tmp_path / "clf-early", "early", "CT and MR")
    assert full.auc == pytest.approx(auc_score(frame["label"], frame["score[CT+MR-T1+MR-T2]"]))
    assert full.low <= full.auc <= full.high and full.n == 60
    ct_only = measured_auc(tmp_path / "clf-early", "early", "CT only")
    assert ct_only.auc == pytest.approx(auc_score(frame["label"], frame["score[CT]"]))


def test_missing_file_or_column_is_a_note_not_an_error(tmp_path):
    _scores(tmp_path, "clf-late", 2.0, mr_column=False)
    results = {m.architecture: m for m in measured_aucs(tmp_path, "MR only")}
    assert list(results) == list(ARCHITECTURES)
    assert results["early"].auc is None and "no scores file" in results["early"].note
    assert results["late"].auc is None and "MR-T1+MR-T2" in results["late"].note


def test_trade_off_rows_cover_every_aspect():
    rows = trade_off_rows()
    assert [row[""] for row in rows] == list(TRADE_OFFS["early"])
    assert all(set(row) == {"", *TRADE_OFFS} for row in rows)
