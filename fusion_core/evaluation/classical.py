"""The classical baseline: logistic regression and a multiple-kernel SVM on hand-made features.

Per-modality intensity and texture features, fitted on the classifiers' training split and scored
like the deep models.

Features (per modality, inside the intracranial region estimated from the CT, on the brain slices;
the MR weightings z-scored inside that region so that site gain does not count): intensity
percentiles, mean, sd, skewness and kurtosis, the fraction of voxels more than 3 sd above or below
the mean (overall, and in the worst slice: small lesions are outliers), and local texture (the
3x3x1 local standard deviation's mean and 99th percentile). 16 numbers per modality.

* Logistic regression: all modalities' features standardised; a missing modality's features are
  set to their training mean (mean imputation).
* Multiple-kernel SVM: one RBF kernel per modality (CT, MR-T1, MR-T2), combined with non-negative
  weights from centred kernel-target alignment (Cortes, Mohri & Rostamizadeh 2012), an SVM on the
  combined kernel with Platt probabilities. A missing modality's kernel is left out of the sum.

CLI (writes ``<out>/classical-lr/scores.csv`` and ``<out>/classical-mksvm/scores.csv``, shipped in
``assets/baselines``; the feature tables are cached in ``fusion_core.paths.cache_dir("classical")``)::

    python -m fusion_core.evaluation.classical [--out assets/baselines]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage, stats

from fusion_core.constants import BONE_HU
from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.data.splits import split_indices
from fusion_core.evaluation.roc import auc_score
from fusion_core.evaluation.runner import subject_row
from fusion_core.evaluation.scores_io import ScoresTable, score_column, write_scores
from fusion_core.paths import assets_dir, cache_dir
from fusion_core.preprocess.brain import _ct_intracranial

MODALITIES = ("CT", "MR-T1", "MR-T2")
FEATURE_VERSION = 1  # bump when the features change, so cached tables are not reused
PERCENTILES = (1, 5, 25, 50, 75, 95, 99, 99.9)
FEATURE_NAMES = (
    *(f"p{p:g}" for p in PERCENTILES),
    "mean",
    "sd",
    "skewness",
    "kurtosis",
    "high_outliers",
    "worst_slice_high_outliers",
    "local_sd_mean",
    "local_sd_p99",
)
SUBSETS = {"CT+MR-T1+MR-T2": MODALITIES, "CT": ("CT",), "MR-T1+MR-T2": ("MR-T1", "MR-T2")}
CLASSICAL_DIR = assets_dir() / "baselines"  # shipped scores files
FEATURE_CACHE = cache_dir("classical")
MODEL_NAMES = ("classical-lr", "classical-mksvm")


def region_features(array: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The 16 features of :data:`FEATURE_NAMES` of one volume inside ``mask``.

    Args:
        array: (z, y, x) intensities.
        mask: (z, y, x) bool region (non-empty).

    Returns:
        (16,) float64.
    """
    values = array[mask].astype(np.float64)
    mean, sd = values.mean(), max(values.std(), 1e-6)
    high = array > mean + 3 * sd
    per_slice = (high & mask).reshape(len(mask), -1).sum(1) / np.maximum(mask.reshape(len(mask), -1).sum(1), 1)
    local_mean = ndimage.uniform_filter(array.astype(np.float64), size=(1, 3, 3))
    local_sq = ndimage.uniform_filter(array.astype(np.float64) ** 2, size=(1, 3, 3))
    local_sd = np.sqrt(np.maximum(local_sq - local_mean**2, 0))[mask]
    return np.array(
        [
            *np.percentile(values, PERCENTILES),
            mean,
            sd,
            stats.skew(values),
            stats.kurtosis(values),
            high[mask].mean(),
            per_slice.max(),
            local_sd.mean(),
            np.percentile(local_sd, 99),
        ]
    )


def case_features(volumes: dict, *, min_brain_fraction: float = 0.5) -> dict[str, np.ndarray]:
    """{modality: (16,) features} of an aligned case ({"CT", "MR-T1", "MR-T2"} on the CT grid)."""
    region = _ct_intracranial(volumes["CT"].array, BONE_HU)
    area = region.reshape(len(region), -1).sum(1)
    region &= (area >= min_brain_fraction * max(area.max(), 1))[:, None, None]
    out = {}
    for m in MODALITIES:
        array = volumes[m].array.astype(np.float64)
        if m != "CT":  # z-score MR inside the region: receiver gain is not evidence
            inside = array[region]
            array = (array - inside.mean()) / max(inside.std(), 1e-6)
        out[m] = region_features(array, region)
    return out


@dataclasses.dataclass
class ClassicalBaseline:
    """Both classical models fitted on one feature table.

    Attributes:
        mean, scale: (n_modalities, 16) standardisation of each modality's features.
        logistic: sklearn LogisticRegression on all standardised features.
        svm: sklearn SVC on the precomputed combined kernel.
        platt: (a, b) of the Platt map sigmoid(a * decision + b), fitted on out-of-fold decisions.
        kernel_weights: {modality: weight} of the multiple-kernel SVM (sum 1).
        gamma: RBF gamma of every modality kernel.
        train: (n, n_modalities, 16) standardised training features (the SVM's support set).
        svm_c: the SVM's C (chosen by cross-validation, as ``gamma``).
    """

    mean: np.ndarray
    scale: np.ndarray
    logistic: object
    svm: object
    platt: tuple[float, float]
    kernel_weights: dict[str, float]
    gamma: float
    train: np.ndarray
    svm_c: float = 1.0

    def _standard(self, features: np.ndarray) -> np.ndarray:
        return (features - self.mean) / self.scale

    def predict_logistic(self, features: np.ndarray, present: Sequence[str] = MODALITIES) -> np.ndarray:
        """(n,) probabilities from (n, n_modalities, 16) features; absent modalities mean-imputed."""
        z = self._standard(features)
        z[:, [m not in present for m in MODALITIES]] = 0.0
        return self.logistic.predict_proba(z.reshape(len(z), -1))[:, 1]

    def predict_svm(self, features: np.ndarray, present: Sequence[str] = MODALITIES) -> np.ndarray:
        """(n,) probabilities of the multiple-kernel SVM using only the ``present`` modalities' kernels."""
        weights = {m: w for m, w in self.kernel_weights.items() if m in present}
        total = sum(weights.values()) or 1.0
        z = self._standard(features)
        kernel = sum(
            (w / total) * rbf(z[:, MODALITIES.index(m)], self.train[:, MODALITIES.index(m)], self.gamma)
            for m, w in weights.items()
        )
        a, b = self.platt
        return 1.0 / (1.0 + np.exp(-(a * self.svm.decision_function(kernel) + b)))


def rbf(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    """(n, m) RBF kernel exp(-gamma |a_i - b_j|^2) of (n, d) and (m, d) features."""
    d2 = (a**2).sum(1)[:, None] + (b**2).sum(1)[None] - 2 * a @ b.T
    return np.exp(-gamma * np.maximum(d2, 0))


def alignment_weights(kernels: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, float]:
    """Non-negative kernel weights proportional to each centred kernel's alignment with the labels (sum 1)."""
    n = len(labels)
    centre = np.eye(n) - 1.0 / n
    y = np.where(np.asarray(labels) == 1, 1.0, -1.0)
    target = np.outer(y, y)
    raw = {}
    for m, k in kernels.items():
        kc = centre @ k @ centre
        raw[m] = max(float((kc * target).sum() / (np.linalg.norm(kc) * np.linalg.norm(target) + 1e-12)), 0.0)
    total = sum(raw.values())
    return {m: (w / total if total > 0 else 1.0 / len(raw)) for m, w in raw.items()}


SVM_C = (0.1, 1.0, 10.0)
SVM_GAMMA = (0.25, 1.0, 4.0)  # times 1 / n_features


def fit_classical(features: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> ClassicalBaseline:
    """Fit both classical models on (n, n_modalities, 16) training features and (n,) 0/1 labels.

    The logistic regression's regularisation and the SVM's C and RBF width are chosen by 5-fold
    cross-validated AUC on the training features only.
    """
    # lazy: scikit-learn takes ~1.5 s to import
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.svm import SVC

    mean, scale = features.mean(0), features.std(0) + 1e-9
    z = (features - mean) / scale
    logistic = LogisticRegressionCV(
        Cs=10, cv=5, max_iter=5000, scoring="roc_auc", l1_ratios=(0.0,), use_legacy_attributes=False
    ).fit(z.reshape(len(z), -1), labels)
    best = max(
        ((c, g / z.shape[2]) for c in SVM_C for g in SVM_GAMMA),
        key=lambda cg: svm_cv_auc(z, labels, c=cg[0], gamma=cg[1], seed=seed),
    )
    c, gamma = best
    kernels = {m: rbf(z[:, i], z[:, i], gamma) for i, m in enumerate(MODALITIES)}
    weights = alignment_weights(kernels, labels)
    combined = sum(w * kernels[m] for m, w in weights.items())
    svm = SVC(kernel="precomputed", C=c).fit(combined, labels)
    platt = platt_map(combined, labels, c=c, seed=seed)
    return ClassicalBaseline(mean, scale, logistic, svm, platt, weights, gamma, z, c)


def svm_cv_auc(z: np.ndarray, labels: np.ndarray, *, c: float, gamma: float, seed: int = 0) -> float:
    """5-fold cross-validated AUC of the multiple-kernel SVM (weights re-fitted in each fold)."""
    # lazy: scikit-learn takes ~1.5 s to import
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import SVC

    decisions = np.empty(len(labels))
    for train, held in StratifiedKFold(5, shuffle=True, random_state=seed).split(z[:, 0], labels):
        kernels = {m: rbf(z[:, i], z[train, i], gamma) for i, m in enumerate(MODALITIES)}
        weights = alignment_weights({m: k[train] for m, k in kernels.items()}, labels[train])
        combined = sum(w * kernels[m] for m, w in weights.items())
        svm = SVC(kernel="precomputed", C=c).fit(combined[train], labels[train])
        decisions[held] = svm.decision_function(combined[held])
    return auc_score(labels, decisions)


def platt_map(
    kernel: np.ndarray, labels: np.ndarray, *, c: float = 1.0, seed: int = 0, folds: int = 5
) -> tuple[float, float]:
    """(a, b) of sigmoid(a * decision + b) fitted on 5-fold out-of-fold SVM decisions (Platt scaling)."""
    # lazy: scikit-learn takes ~1.5 s to import
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import SVC

    decisions = np.empty(len(labels))
    for train, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(kernel, labels):
        svm = SVC(kernel="precomputed", C=c).fit(kernel[np.ix_(train, train)], labels[train])
        decisions[held] = svm.decision_function(kernel[np.ix_(held, train)])
    fit = LogisticRegression().fit(decisions[:, None], labels)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def feature_table(spec, indices: Sequence[int], *, progress: Callable[[int, int], None] | None = None):
    """(rows of subject metadata, (n, n_modalities, 16) features) of members ``indices`` of ``spec``."""
    rows, feats = [], []
    for done, i in enumerate(indices, start=1):
        subject = spec.subject(i)
        case = subject.to_case().aligned()
        f = case_features({"CT": case.ct, **case.mr_weightings})
        feats.append(np.stack([f[m] for m in MODALITIES]))
        rows.append(subject_row(subject, spec.name, "test"))
        if progress:
            progress(done, len(indices))
    return pd.DataFrame(rows), np.stack(feats)


def feature_stem(spec, split: str) -> str:
    """Cache file stem naming what the features depend on: spec, seed, size, split and the feature version."""
    return f"features_v{FEATURE_VERSION}_{spec.name}_{spec.seed}_{spec.n}_{split}"


def cached_features(stem: Path, spec, indices, progress) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`feature_table`, kept as ``<stem>.csv`` + ``<stem>.npy`` (git-ignored) and reused when present."""
    if stem.with_suffix(".csv").is_file() and stem.with_suffix(".npy").is_file():
        rows = pd.read_csv(stem.with_suffix(".csv"), dtype={"subject_id": str, "lesion_type": str, "site": str})
        return rows, np.load(stem.with_suffix(".npy"))
    rows, features = feature_table(spec, list(indices), progress=progress)
    stem.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(stem.with_suffix(".csv"), index=False)
    np.save(stem.with_suffix(".npy"), features)
    return rows, features


def classical_scores(model: ClassicalBaseline, rows: pd.DataFrame, features: np.ndarray) -> dict[str, ScoresTable]:
    """Scores tables of both models on every input subset (complete, CT only, MR only)."""
    out = {}
    for name, predict in (("classical-lr", model.predict_logistic), ("classical-mksvm", model.predict_svm)):
        columns = {score_column(key): predict(features, present) for key, present in SUBSETS.items()}
        out[name] = ScoresTable(rows.assign(**columns), name=name)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: fit the classical baseline on the training cohort, score the demo test split.

    Returns:
        The exit code (0).
    """
    parser = argparse.ArgumentParser(
        prog="python -m fusion_core.evaluation.classical", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=CLASSICAL_DIR)
    args = parser.parse_args(argv)
    train_spec, test_spec = get_cohort_spec("classifier-train"), get_cohort_spec("demo")
    tick = lambda what: lambda d, n: print(f"\r{what} {d}/{n}", end="", flush=True)  # noqa: E731
    train_rows, train_x = cached_features(
        FEATURE_CACHE / feature_stem(train_spec, "train"), train_spec, split_indices(train_spec, "train"), tick("train")
    )
    model = fit_classical(train_x, train_rows["label"].to_numpy(int))
    test_rows, test_x = cached_features(
        FEATURE_CACHE / feature_stem(test_spec, "test"), test_spec, range(test_spec.n), tick("test")
    )
    print(f"\nkernel weights {model.kernel_weights}, SVM C {model.svm_c}, gamma {model.gamma:.3f}")
    for name, table in classical_scores(model, test_rows, test_x).items():
        print(name, "->", write_scores(table, args.out / name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
