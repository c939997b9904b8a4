"""Per-subject scores files (``assets/models/<name>/scores.csv``): read, validate, write.

A classifier ships its test-split subject scores so that a page draws ROC curves without
generating a cohort. Columns::

    subject_id, label, lesion_type, site, spec, split,     one row per subject
    score[<inputs joined by +>] ...                        probability in [0, 1] per input subset
    uncertainty[<inputs joined by +>] ...                  optional, >= 0, for a subset with a score

e.g. ``score[CT+MR-T1]``, ``score[CT]``, ``score[MR-T1]``. A subset the model cannot run is absent
or NaN. ``label`` is 0/1; ``split`` is one of train, val, test; other columns are kept as they are.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fusion_core.evaluation.errors import EvaluationError

SCORES_FILE = "scores.csv"
REQUIRED_COLUMNS = ("subject_id", "label", "lesion_type", "site", "spec", "split")
SPLITS = ("train", "val", "test")
_COLUMN = re.compile(r"^(score|uncertainty)\[([^\[\]]+)\]$")
_TEXT_COLUMNS = {"subject_id": str, "lesion_type": str, "site": str, "spec": str, "split": str}


def subset_key(inputs: str | Sequence[str]) -> str:
    """The subset name used in column names: ("CT", "MR-T1") -> "CT+MR-T1" (a string is kept)."""
    return inputs if isinstance(inputs, str) else "+".join(inputs)


def score_column(inputs: str | Sequence[str]) -> str:
    """Column name of a subset's scores: ``score[CT+MR-T1]``."""
    return f"score[{subset_key(inputs)}]"


def uncertainty_column(inputs: str | Sequence[str]) -> str:
    """Column name of a subset's uncertainties: ``uncertainty[CT+MR-T1]``."""
    return f"uncertainty[{subset_key(inputs)}]"


@dataclasses.dataclass(frozen=True)
class ScoresTable:
    """A validated scores file.

    Attributes:
        frame: one row per subject, columns as in the module docstring.
        source: the file it was read from (or will be written to); "" when built in memory.
        name: the model's name (its folder's name), "" when unknown.
    """

    frame: pd.DataFrame
    source: str = ""
    name: str = ""

    @property
    def subsets(self) -> tuple[str, ...]:
        """Input subsets with a score column, in column order (e.g. ("CT+MR-T1", "CT", "MR-T1"))."""
        return tuple(m[2] for c in self.frame.columns if (m := _COLUMN.match(str(c))) and m[1] == "score")

    @property
    def full_subset(self) -> str:
        """The subset holding every input of the others (the model's complete input).

        Raises:
            EvaluationError: no subset contains all the others' inputs.
        """
        union = {part for s in self.subsets for part in s.split("+")}
        for s in self.subsets:
            if set(s.split("+")) == union:
                return s
        raise EvaluationError(f"{self.source or 'scores'}: no score column holds every input {sorted(union)}")

    def scores(self, subset: str | Sequence[str], *, split: str | None = "test") -> tuple[np.ndarray, np.ndarray]:
        """(labels, scores) of the subjects the subset has a score for (NaN rows left out).

        Args:
            subset: e.g. "CT+MR-T1" or ("CT", "MR-T1"); "all" = :attr:`full_subset`.
            split: keep rows of this split only; None keeps every row.

        Returns:
            (n,) int labels and (n,) float scores.

        Raises:
            EvaluationError: the subset has no column or no score in the split.
        """
        rows = self._rows(subset, split)
        return rows["label"].to_numpy(int), rows[score_column(self._key(subset))].to_numpy(float)

    def uncertainty(self, subset: str | Sequence[str], *, split: str | None = "test") -> np.ndarray | None:
        """(n,) uncertainties aligned with :meth:`scores`, or None when the file has none for the subset."""
        column = uncertainty_column(self._key(subset))
        if column not in self.frame.columns:
            return None
        return self._rows(subset, split)[column].to_numpy(float)

    def _key(self, subset: str | Sequence[str]) -> str:
        key = self.full_subset if subset == "all" else subset_key(subset)
        if key not in self.subsets:
            raise EvaluationError(
                f"{self.source or 'scores'}: no column {score_column(key)} (has {list(self.subsets)})"
            )
        return key

    def _rows(self, subset: str | Sequence[str], split: str | None) -> pd.DataFrame:
        column = score_column(self._key(subset))
        keep = self.frame[column].notna()
        if split is not None:
            keep &= self.frame["split"] == split
        if not keep.any():
            raise EvaluationError(f"{self.source or 'scores'}: no {column} for split {split!r}")
        return self.frame[keep]


def _problems(frame: pd.DataFrame) -> list[str]:
    """What is wrong with a scores frame (empty list: valid)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        return [f"missing column(s) {missing}"]
    problems = [
        f"malformed column {c!r} (expected e.g. 'score[CT+MR-T1]')"
        for c in frame.columns
        if str(c).startswith(("score", "uncertainty")) and not (_COLUMN.match(str(c)) and "" not in _parts(c))
    ]
    scored = {m[2] for c in frame.columns if (m := _COLUMN.match(str(c))) and m[1] == "score"}
    if not scored:
        problems.append("no score[...] column")
    problems += [
        f"{c} has no matching score column"
        for c in frame.columns
        if (m := _COLUMN.match(str(c))) and m[1] == "uncertainty" and m[2] not in scored
    ]
    return problems + _row_problems(frame)


def _parts(column: str) -> list[str]:
    return column[column.index("[") + 1 : -1].split("+")


def _row_problems(frame: pd.DataFrame) -> list[str]:
    problems = [] if len(frame) else ["no rows"]
    ids = frame["subject_id"]
    if ids.isna().any() or frame.duplicated(["spec", "subject_id"]).any():  # ids restart in each cohort spec
        problems.append("subject_id must be present in every row and unique within each cohort spec")
    if not frame["label"].isin([0, 1]).all():
        problems.append("label must be 0 or 1 in every row")
    if not frame["split"].isin(SPLITS).all():
        problems.append(f"split must be one of {list(SPLITS)}")
    for c in frame.columns:
        if m := _COLUMN.match(str(c)):
            values = pd.to_numeric(frame[c], errors="coerce")
            bad = frame[c].notna() & values.isna()
            lo, hi = (0.0, 1.0) if m[1] == "score" else (0.0, np.inf)
            if bad.any() or ((values < lo) | (values > hi)).any():
                problems.append(f"{c} must be numbers in [{lo}, {hi}] or empty")
    return problems


def scores_path(path_or_model_dir: str | Path) -> Path:
    """The scores file itself, or ``<dir>/scores.csv`` for a model folder (a folder, or a path without suffix)."""
    path = Path(path_or_model_dir)
    return path / SCORES_FILE if path.is_dir() or not path.suffix else path


def read_scores(path_or_model_dir: str | Path) -> ScoresTable:
    """Read and validate a scores file (or a model folder's ``scores.csv``).

    Raises:
        EvaluationError: the file is missing, unreadable or invalid; the message names the file
            and every problem found.
    """
    path = scores_path(path_or_model_dir)
    if not path.is_file():
        raise EvaluationError(f"{path}: no scores file there")
    try:
        frame = pd.read_csv(path, dtype=_TEXT_COLUMNS)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise EvaluationError(f"{path}: not a readable CSV ({exc})") from exc
    if problems := _problems(frame):
        raise EvaluationError(f"{path}: " + "; ".join(problems))
    frame["label"] = frame["label"].astype(int)
    name = path.parent.name if path.name == SCORES_FILE else path.stem
    return ScoresTable(frame, str(path), name)


def write_scores(table_or_frame: ScoresTable | pd.DataFrame, path: str | Path) -> Path:
    """Validate and write a scores file atomically (a temporary file in the folder, then a rename).

    Args:
        table_or_frame: a :class:`ScoresTable` or a DataFrame with the scores columns.
        path: the file, or a model folder (written as ``<folder>/scores.csv``).

    Returns:
        The path written.

    Raises:
        EvaluationError: the frame is not a valid scores table (nothing is written).
    """
    frame = table_or_frame.frame if isinstance(table_or_frame, ScoresTable) else table_or_frame
    target = scores_path(path)
    if problems := _problems(frame):
        raise EvaluationError(f"{target}: not written: " + "; ".join(problems))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            frame.to_csv(handle, index=False)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def scores_dirs(root: str | Path, pattern: str = "clf-*") -> list[Path]:
    """Model folders under ``root`` matching ``pattern`` that hold a scores file, sorted by name."""
    return sorted(p.parent for p in Path(root).glob(f"{pattern}/{SCORES_FILE}"))
