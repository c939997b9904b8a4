import pandas as pd

from fusion_core.evaluation.runner import merged_split
from fusion_core.evaluation.scores_io import ScoresTable, read_scores, write_scores


def _table(split: str, scores: list[float], spec: str = "demo") -> ScoresTable:
    n = len(scores)
    frame = pd.DataFrame(
        {
            "subject_id": [f"s{i}" for i in range(n)],
            "label": [i % 2 for i in range(n)],
            "lesion_type": "none",
            "site": "A",
            "spec": spec,
            "split": split,
            "score[CT]": scores,
        }
    )
    return ScoresTable(frame, name="clf-ct")


def test_writing_one_split_keeps_the_others(tmp_path):
    path = write_scores(_table("test", [0.1, 0.9]), tmp_path / "scores.csv")
    assert merged_split(_table("test", [0.2]), tmp_path / "missing.csv").frame["score[CT]"].tolist() == [0.2]
    write_scores(merged_split(_table("val", [0.3, 0.7, 0.5], spec="classifier-train"), path), path)
    frame = read_scores(path).frame
    assert sorted(frame["split"].unique()) == ["test", "val"] and len(frame) == 5
    write_scores(merged_split(_table("test", [0.4, 0.6]), path), path)  # replaces the test rows only
    frame = read_scores(path).frame
    assert frame.loc[frame["split"] == "test", "score[CT]"].tolist() == [0.4, 0.6]
    assert (frame["split"] == "val").sum() == 3
