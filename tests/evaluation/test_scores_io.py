"""Scores files: read, validate, write, and ROC summaries from them."""

import numpy as np
import pandas as pd
import pytest

from fusion_core.evaluation import (
    EvaluationError,
    read_scores,
    roc_summaries,
    score_column,
    scores_dirs,
    strategy_roc,
    write_scores,
)

CSV = """subject_id,label,lesion_type,site,spec,split,score[CT+MR-T1],score[CT],score[MR-T1],uncertainty[CT+MR-T1]
d001,0,none,A,demo,test,0.10,0.20,0.30,0.01
d002,0,none,B,demo,test,0.40,0.10,,0.02
d003,1,calcified,A,demo,test,0.90,0.80,0.35,0.03
d004,1,oedema,B,demo,test,0.30,0.15,0.70,0.04
d005,1,oedema,A,demo,val,0.99,0.99,0.99,0.05
"""


@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "clf-early"
    folder.mkdir()
    (folder / "scores.csv").write_text(CSV)
    return folder


def test_read_scores_from_a_model_folder(model_dir):
    table = read_scores(model_dir)
    assert table.name == "clf-early" and table.source.endswith("scores.csv")
    assert table.subsets == ("CT+MR-T1", "CT", "MR-T1") and table.full_subset == "CT+MR-T1"
    labels, scores = table.scores("CT+MR-T1")  # the val row is left out
    assert labels.tolist() == [0, 0, 1, 1] and scores.tolist() == [0.1, 0.4, 0.9, 0.3]
    labels, scores = table.scores(("MR-T1",))  # the NaN row (the model could not run) is left out
    assert labels.tolist() == [0, 1, 1] and scores.tolist() == [0.3, 0.35, 0.7]
    assert table.uncertainty("all").tolist() == [0.01, 0.02, 0.03, 0.04]
    assert table.uncertainty("CT") is None
    assert table.frame["subject_id"].tolist()[0] == "d001"


def test_strategy_roc_by_hand(model_dir):
    table = read_scores(model_dir)
    full = strategy_roc(table, "all", n_boot=50)
    # positives 0.9, 0.3 against negatives 0.1, 0.4: 0.9 beats both, 0.3 beats 0.1 -> 3 of 4
    assert full.roc.auc.auc == 0.75 and (full.roc.auc.n_pos, full.roc.auc.n_neg) == (2, 2)
    assert full.model == "clf-early" and full.subset == "CT+MR-T1"
    assert full.roc.fpr[0] == 0 and full.roc.tpr[-1] == 1 and len(full.roc.fpr) == len(full.roc.thresholds)
    assert strategy_roc(table, "MR-T1", n_boot=50).roc.auc.auc == 1.0  # 0.35 and 0.7 above 0.3
    with pytest.raises(EvaluationError, match=r"no column score\[MR-T2\]"):
        strategy_roc(table, "MR-T2")


def test_roc_summaries_skip_models_without_the_subset(model_dir, tmp_path):
    ct_only = (
        pd.read_csv(model_dir / "scores.csv").iloc[:, :6].assign(**{score_column("CT"): [0.2, 0.1, 0.7, 0.6, 0.5]})
    )
    write_scores(ct_only, tmp_path / "clf-ct")
    dirs = scores_dirs(tmp_path)
    assert [d.name for d in dirs] == ["clf-ct", "clf-early"]
    assert set(roc_summaries(dirs, "all", n_boot=20)) == {"clf-ct", "clf-early"}
    assert set(roc_summaries(dirs, "CT+MR-T1", n_boot=20)) == {"clf-early"}
    assert roc_summaries(dirs, "CT", n_boot=20)["clf-ct"].roc.auc.auc == 1.0


def test_write_then_read_round_trips_and_leaves_no_temporary(model_dir, tmp_path):
    table = read_scores(model_dir)
    out = write_scores(table, tmp_path / "copy" / "scores.csv")
    pd.testing.assert_frame_equal(read_scores(out).frame, table.frame)
    assert [p.name for p in out.parent.iterdir()] == ["scores.csv"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("site,", "centre,"), r"missing column\(s\) \['site'\]"),
        (lambda t: t.replace("score[CT],", "score[CT,"), "malformed column 'score\\[CT'"),
        (lambda t: t.replace("d002,0", "d002,2"), "label must be 0 or 1"),
        (lambda t: t.replace("d002", "d001"), "subject_id must be present in every row and unique"),
        (lambda t: t.replace("0.90,0.80", "1.90,0.80"), r"score\[CT\+MR-T1\] must be numbers in \[0.0, 1.0\]"),
        (lambda t: t.replace(",test,", ",testing,", 1), "split must be one of"),
        (lambda t: t.replace("uncertainty[CT+MR-T1]", "uncertainty[MR-T2]"), "uncertainty.MR-T2. has no matching"),
        (lambda t: t.splitlines()[0] + "\n", "no rows"),
        (lambda t: "", "not a readable CSV"),
    ],
)
def test_read_scores_names_the_file_and_the_problem(model_dir, edit, message):
    path = model_dir / "scores.csv"
    path.write_text(edit(CSV))
    with pytest.raises(EvaluationError, match=message) as info:
        read_scores(path)
    assert str(path) in str(info.value)


def test_missing_file_and_invalid_write_are_refused(tmp_path):
    with pytest.raises(EvaluationError, match="no scores file"):
        read_scores(tmp_path / "clf-nothing")
    bad = pd.DataFrame({"subject_id": ["a"], "label": [1]})
    with pytest.raises(EvaluationError, match="not written"):
        write_scores(bad, tmp_path / "scores.csv")
    assert not any(tmp_path.iterdir())


def test_full_subset_needs_a_column_with_every_input(tmp_path):
    frame = pd.read_csv(pd.io.common.StringIO(CSV)).drop(columns=["score[CT+MR-T1]", "uncertainty[CT+MR-T1]"])
    path = write_scores(frame, tmp_path / "scores.csv")
    with pytest.raises(EvaluationError, match="no score column holds every input"):
        read_scores(path).scores("all")
    assert np.isnan(read_scores(path).frame["score[MR-T1]"]).sum() == 1
