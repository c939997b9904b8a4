"""The training table: axial slices of a phantom cohort, scaled and cut the way every network sees them.

Intensity scaling lives in :mod:`fusion_core.preprocess.network` and slice geometry in
:mod:`fusion_core.preprocess.slices`, both shared with inference. Slices are centre-cropped in-plane to ``crop_fraction`` of the field of view (the brain sits in
the middle of the phantom's FOV, so a crop enlarges lesions in network pixels) and resized to
``image_size`` (area averaging); a slice is kept when its head covers ``min_head_fraction`` of it
and its brain covers ``min_brain_fraction`` of the subject's largest brain section (so neck and
vertex slices, which never hold a lesion, cannot teach "slice position"), every
``slice_step``-th such slice. The slice label is 1 when it
holds at least ``lesion_min_voxels`` lesion voxels (on the native grid). The subject-level
probability used by ``fusion_core.inference.classify`` is the mean of the top-k slice probabilities
(k = 3): robust to one noisy slice, still sensitive to small lesions spanning few slices.
Splits are by subject (never slice), stratified by the subject label, drawn with ``split_seed``. Generated tables are cached as npz
under ``cache_dir`` (default ``fusion_core.paths.cache_dir("slices")``, set by ``FUSION_CACHE``), keyed by a hash of the config.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from fusion_core.data.cohorts import CohortSpec, get_cohort_spec
from fusion_core.data.splits import SPLITS, split_indices, split_subjects
from fusion_core.paths import cache_dir
from fusion_core.preprocess.masks import case_head_mask
from fusion_core.preprocess.network import ct_to_unit, mr_to_unit
from fusion_core.preprocess.slices import neighbour_indices, network_slices
from fusion_core.training.cohort_folder import folder_digest, folder_spec, iter_folder_subjects

TABLE_VERSION = 4  # bump when the table generation changes, so stale caches are not reused
# Options added after TABLE_VERSION 2: left out of the cache key at their default (no-op) value.
_KEY_DEFAULTS = {
    "min_brain_fraction": 0.0,
    "crop_fraction": 1.0,
    "mr_lesion": "oedema",
    "neighbours": 0,
    "cohort": "",
    "mr_weightings": ("T1",),
    "cohort_dir": "",
    "max_subjects": 0,
}
MR_WEIGHTINGS = ("T1", "T2")


@dataclasses.dataclass(frozen=True)
class SliceDataConfig:
    """Which phantom cohort to slice and how.

    Attributes:
        cohort: name of a cohort spec (``fusion_core.data.cohorts``); when given, the spec decides
            the subjects (its n, seed, pairing, phantom options, sites and split fractions) and
            ``n_subjects``, ``seed``, ``paired``, ``phantom_options``, ``complementary`` and
            ``split_fractions`` are ignored. Empty: the fields below describe the cohort.
        mr_weightings: MR weightings the networks read, as channels of the "MR" input in this
            order: ("T1",) or ("T1", "T2").
        n_subjects: cohort size.
        seed: cohort seed (``make_cohort(seed=...)``).
        paired: paired cohort (MR resampled onto the CT grid) or unpaired (each subject one modality).
        phantom_options: extra keyword options of ``make_cohort`` (e.g. conspicuity, lesion_type, size).
        complementary: build the cohort from two halves whose lesions are each visible in only one
            modality: calcified lesions with MR conspicuity ``faint`` and ``mr_lesion`` lesions
            with CT conspicuity ``faint`` (the case where fusion must beat either modality alone).
        mr_lesion: the lesion type of the MR-visible half of a complementary cohort. Oedema is
            only mildly hypointense on T1 (grey-matter-like); a late subacute haemorrhage
            ("subacute-haemorrhage") is isodense on CT and bright on T1, so truly MR-only.
        faint: conspicuity of a lesion in the modality where it should be hard to see.
        image_size: in-plane size of the network's slices.
        slice_step: keep every k-th slice inside the head.
        min_head_fraction: minimum fraction of head pixels for a slice to be kept.
        min_brain_fraction: minimum brain area of a kept slice, as a fraction of the subject's
            largest brain section (0 = no brain condition).
        crop_fraction: in-plane centre crop (fraction of the field of view) before resizing.
        lesion_min_voxels: lesion voxels (native grid) needed for a positive slice label.
        drop_ambiguous: leave out slices that hold some lesion voxels but fewer than
            ``lesion_min_voxels`` (the tip of a lesion: neither clearly positive nor negative).
        neighbours: 2.5-D input: k > 0 stores each slice with its k neighbours on either side as
            channels, (N, 2k+1, S, S) per modality (edge slices repeat the end slice); 0 = 2-D,
            (N, S, S). The model's ``encoder.in_channels`` must be 2k+1.
        split_fractions: train/val/test fractions of SUBJECTS.
        split_seed: seed of the subject split.
        cache_dir: where generated tables are cached; empty: ``fusion_core.paths.cache_dir("slices")``
            (under ``FUSION_CACHE``, else the user's cache folder).
        cohort_dir: a cohort folder (SynthRAD layout, labels in ``cohort.csv``) to slice instead of a
            phantom cohort (:mod:`fusion_core.training.cohort_folder`); ``split_fractions`` and
            ``split_seed`` split its subjects. Wins over ``cohort``.
        max_subjects: > 0 keeps only this many members of a named ``cohort`` spec: the first ones of
            the spec's own train and validation splits (:func:`fusion_core.data.splits.split_indices`),
            in proportion to its split fractions, each keeping its split. 0 = every member.
    """

    cohort: str = ""
    mr_weightings: tuple[str, ...] = ("T1",)
    n_subjects: int = 60
    seed: int = 0
    paired: bool = True
    phantom_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    complementary: bool = False
    mr_lesion: str = "oedema"
    faint: float = 0.15
    image_size: int = 64
    slice_step: int = 2
    min_head_fraction: float = 0.1
    min_brain_fraction: float = 0.0
    crop_fraction: float = 1.0
    lesion_min_voxels: int = 3
    drop_ambiguous: bool = False
    neighbours: int = 0
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    split_seed: int = 0
    cache_dir: str = ""
    cohort_dir: str = ""
    max_subjects: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.mr_weightings) - set(MR_WEIGHTINGS)
        if not self.mr_weightings or unknown or len(set(self.mr_weightings)) != len(self.mr_weightings):
            raise ValueError(f"mr_weightings must be distinct names from {MR_WEIGHTINGS}, got {self.mr_weightings}")

    @property
    def spec(self):
        """The cohort spec this config slices (its own fields as an ad-hoc spec when ``cohort`` is empty)."""
        if self.cohort_dir:
            return folder_spec(self.cohort_dir, self.split_fractions)
        if self.cohort:
            return get_cohort_spec(self.cohort)
        return CohortSpec(
            name=f"ad-hoc-{self.seed}",
            n=self.n_subjects,
            seed=self.seed,
            paired=self.paired,
            options=self.phantom_options,
            split_fractions=self.split_fractions,
            complementary={"faint": self.faint, "mr_lesion": self.mr_lesion} if self.complementary else None,
        )

    @property
    def channels(self) -> dict[str, int]:
        """Input channels per network modality: 2k+1 for CT, (2k+1) per MR weighting."""
        per = 2 * self.neighbours + 1
        return {"CT": per, "MR": per * len(self.mr_weightings)}

    def cache_key(self) -> str:
        """12-hex digest of the settings that decide the table (cohort contents, not names or paths)."""
        fields = {
            k: v
            for k, v in dataclasses.asdict(self).items()
            if k != "cache_dir" and not (k in _KEY_DEFAULTS and _same(v, _KEY_DEFAULTS[k]))
        }
        if self.cohort_dir:  # the folder's content, not its path, decides the table
            fields["cohort_dir"] = folder_digest(self.cohort_dir)
        elif self.cohort:  # a spec's contents, not its name, decide the table
            fields["cohort"] = self.spec.as_dict()
        fields["table_version"] = TABLE_VERSION
        return hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, default=list) == json.dumps(b, default=list)


def keep_slices(head: np.ndarray, config: SliceDataConfig, brain: np.ndarray | None = None) -> np.ndarray:
    """Indices of the slices of a (z, y, x) head mask (and optional brain mask) to keep."""
    keep = head.reshape(head.shape[0], -1).mean(1) >= config.min_head_fraction
    if brain is not None and config.min_brain_fraction > 0:
        area = brain.reshape(brain.shape[0], -1).sum(1)
        keep &= area >= config.min_brain_fraction * max(area.max(), 1)
    return np.flatnonzero(keep)[:: config.slice_step]


def to_slices(array: np.ndarray, config: SliceDataConfig) -> np.ndarray:
    """(n, y, x) native slices -> (n, S, S) network slices for this data config."""
    return network_slices(array, config.image_size, config.crop_fraction)


def to_network_input(array: np.ndarray, idx: np.ndarray, config: SliceDataConfig) -> np.ndarray:
    """Slices ``idx`` of a scaled (z, y, x) volume as network input.

    (n, S, S) for 2-D, or (n, 2k+1, S, S) with ``config.neighbours`` = k (2.5-D).
    """
    if config.neighbours <= 0:
        return to_slices(array[idx], config)
    nb = neighbour_indices(idx, config.neighbours, array.shape[0])
    flat = to_slices(array[nb.ravel()], config)
    return flat.reshape(nb.shape[0], nb.shape[1], *flat.shape[1:])


def subject_arrays(subject: Any, config: SliceDataConfig) -> dict[str, np.ndarray]:
    """Scaled, resized slices of one phantom subject (missing modality -> zeros, flagged)."""
    ct = subject.ct
    mrs = _mr_weightings(subject, config)
    mr = mrs[0] if mrs else None
    ref = ct if ct is not None else mr
    head = case_head_mask(subject)
    lesion = subject.masks.get("lesion")
    lesion = lesion if lesion is not None and lesion.shape == ref.shape else None
    brain = subject.masks.get("brain")
    brain = brain.array > 0.5 if brain is not None and brain.shape == ref.shape else None
    idx = keep_slices(head, config, brain)
    per_slice = (lesion.array > 0.5).reshape(lesion.shape[0], -1).sum(1) if lesion is not None else np.zeros(len(head))
    if config.drop_ambiguous:
        idx = idx[(per_slice[idx] == 0) | (per_slice[idx] >= config.lesion_min_voxels)]
    out = {"head": to_slices(head[idx].astype(np.float32), config) > 0.5}
    out["CT"] = to_network_input(ct_to_unit(ct.array), idx, config) if ct is not None else None
    out["MR"] = _stack_channels([to_network_input(mr_to_unit(m.array)[0], idx, config) for m in mrs], config)
    out["lesion"] = (
        to_slices((lesion.array[idx] > 0.5).astype(np.float32), config) > 0.5
        if lesion is not None
        else np.zeros_like(out["head"])
    )
    out["label"] = (per_slice[idx] >= config.lesion_min_voxels).astype(np.int64)
    out["lesion_voxels"] = per_slice[idx].astype(np.int64)
    out["slice"] = idx.astype(np.int64)
    return out


def _mr_weightings(subject: Any, config: SliceDataConfig) -> list[Any]:
    """The subject's MR weightings named by the config, on the CT grid when the cohort is paired ([] if no MR)."""
    if subject.mr is None:
        return []
    aligned = subject.ct is not None and subject.true_transform is not None
    if aligned:
        return [subject.mr_on_ct_grid(w) for w in config.mr_weightings]
    return [subject.mr if w == "T1" else subject.mr_t2 for w in config.mr_weightings]


def _stack_channels(parts: list[np.ndarray], config: SliceDataConfig) -> np.ndarray | None:
    """One weighting's (n, S, S) / (n, C, S, S) inputs -> the "MR" input; several -> channels concatenated."""
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    with_channels = [p[:, None] if config.neighbours <= 0 else p for p in parts]
    return np.concatenate(with_channels, axis=1)


def build_slice_table(config: SliceDataConfig, *, progress: bool = False) -> dict[str, np.ndarray]:
    """Generate (or load from cache) the slice table of a phantom cohort.

    Returns:
        dict of arrays over N slices: "CT", "MR" (N, S, S) float32 in [-1, 1] (zeros when missing;
        (N, 2k+1, S, S) with ``neighbours`` = k),
        "has" (N, 2) presence of CT/MR, "head" (N, S, S) bool, "lesion" (N, S, S) bool lesion mask (network
        pixels; a lesion pixel is one at least half covered), "label" (N,) slice lesion label, "lesion_voxels" (N,) native lesion voxels in the slice,
        "subject" (N,) subject index, "slice" (N,) native slice index, "subject_label" (N,),
        "split" (N,) 0/1/2 = train/val/test.
    """
    path = _cache_path(config)
    if path.exists():
        with np.load(path) as data:
            return dict(data)
    richer = dataclasses.replace(config, mr_weightings=MR_WEIGHTINGS)
    if richer != config and _cache_path(richer).exists():  # cut fewer weightings out of a cached table
        return _select_weightings(build_slice_table(richer), richer, config)
    table = _generate(config, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **table)
    tmp.replace(path)
    return table


def _cache_path(config: SliceDataConfig) -> Path:
    folder = Path(config.cache_dir) if config.cache_dir else cache_dir("slices")
    return folder / f"slices_{config.cache_key()}.npz"


def _select_weightings(table: dict[str, np.ndarray], source: SliceDataConfig, target: SliceDataConfig):
    """The table of ``target`` (a subset of ``source``'s MR weightings, same everything else)."""
    per = 2 * source.neighbours + 1
    mr = table["MR"]
    picks = [source.mr_weightings.index(w) for w in target.mr_weightings]
    channels = np.concatenate([np.arange(i * per, (i + 1) * per) for i in picks])
    selected = mr[:, channels]
    if selected.shape[1] == 1 and target.neighbours <= 0:
        selected = selected[:, 0]
    return {**table, "MR": np.ascontiguousarray(selected)}


def iter_phantom_cohort(config: SliceDataConfig) -> Iterator[Any]:
    """The phantom subjects a SliceDataConfig describes (its cohort spec), one at a time.

    The subjects of its ``cohort_dir`` when it names a folder.
    """
    if config.cohort_dir:
        yield from iter_folder_subjects(config.cohort_dir)
        return
    members = selected_members(config)
    if members is None:
        yield from config.spec.subjects()
    else:
        yield from (config.spec.subject(i) for i, _ in members)


def selected_members(config: SliceDataConfig) -> list[tuple[int, int]] | None:
    """(spec index, split index) of the members ``max_subjects`` keeps; None when every member is used."""
    if config.max_subjects <= 0 or not config.cohort:
        return None
    spec = config.spec
    fractions = np.asarray(spec.split_fractions, float) / sum(spec.split_fractions)
    counts = np.round(fractions * config.max_subjects).astype(int)
    members = []
    for split, (name, count) in enumerate(zip(SPLITS, counts, strict=True)):
        if count:
            members += [(i, split) for i in split_indices(spec, name)[:count]]
    return members


def lesion_groups(config: SliceDataConfig, subjects: np.ndarray) -> np.ndarray:
    """Which half of a complementary cohort each subject index belongs to.

    "calcified" (CT-visible) or ``config.mr_lesion`` (MR-visible), following the interleaving of
    :func:`iter_phantom_cohort`; "mixed" for every subject of a cohort that is not complementary.
    """
    subjects = np.asarray(subjects)
    if not config.complementary:
        return np.full(subjects.shape, "mixed", dtype=object)
    half = config.n_subjects // 2
    calcified = (subjects < 2 * half) & (subjects % 2 == 0)
    return np.where(calcified, "calcified", config.mr_lesion).astype(object)


def _generate(config: SliceDataConfig, *, progress: bool) -> dict[str, np.ndarray]:
    parts, subject_labels, given_splits = [], [], []
    cohort = iter_phantom_cohort(config)
    members = selected_members(config)
    total = config.spec.n if members is None else len(members)
    for i, subject in enumerate(tqdm(cohort, total=total, desc="slicing cohort", disable=not progress)):
        subject_labels.append(int(subject.label or 0))
        given_splits.append(subject.meta.get("split"))
        arr = subject_arrays(subject, config)
        n = len(arr["slice"])
        has = np.array([[arr["CT"] is not None, arr["MR"] is not None]] * n, dtype=bool).reshape(n, 2)
        parts.append(
            {
                "CT": arr["CT"] if arr["CT"] is not None else _zeros(n, "CT", config),
                "MR": arr["MR"] if arr["MR"] is not None else _zeros(n, "MR", config),
                "has": has,
                "head": arr["head"],
                "lesion": arr["lesion"],
                "label": arr["label"],
                "lesion_voxels": arr["lesion_voxels"],
                "slice": arr["slice"],
                "subject": np.full(n, i, np.int64),
                "subject_label": np.full(n, int(subject.label or 0), np.int64),
                "subject_id": np.full(n, subject.subject_id, dtype="U32"),
                "lesion_type": np.full(n, subject.meta.get("lesion_type", "none"), dtype="U32"),
                "site": np.full(n, subject.meta.get("site", ""), dtype="U8"),
            }
        )
    table = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    if config.cohort_dir and all(name in SPLITS for name in given_splits):  # the folder's cohort.csv says
        split = np.array([SPLITS.index(name) for name in given_splits], dtype=np.int64)
    elif members is None:
        split = split_subjects(
            len(parts), config.spec.split_fractions, config.split_seed, labels=np.array(subject_labels)
        )
    else:  # the spec's own split of each kept member
        split = np.array([s for _, s in members], dtype=np.int64)
    table["split"] = split[table["subject"]]
    return table


def _zeros(n: int, modality: str, config: SliceDataConfig) -> np.ndarray:
    """Stand-in input of a missing modality, shaped like the present one's."""
    channels = config.channels[modality]
    plain = channels == 1 and (modality == "CT" or len(config.mr_weightings) == 1) and config.neighbours <= 0
    return np.zeros((n, *(() if plain else (channels,)), config.image_size, config.image_size), np.float32)


def table_images(table: dict[str, np.ndarray], modality: str, rows) -> np.ndarray:
    """A modality's network input at ``rows`` of a slice table, channels first.

    (C, S, S) for one row, (n, C, S, S) for an index array; C = 1 for a 2-D table, 2k+1 for a 2.5-D one.
    """
    images = table[modality][rows]
    plain_ndim = 2 if np.ndim(rows) == 0 else 3  # a 2-D table has no channel axis yet
    return images[..., None, :, :] if images.ndim == plain_ndim else images


class SliceDataset(torch.utils.data.Dataset):
    """Torch view of one split of a slice table.

    Items are dicts: "CT", "MR" (C, S, S) float32 (C = 1, or 2k+1 for 2.5-D), "has" (2,) float32 presence, "head" and
    "lesion" (1, S, S) float32 masks, "label" float32 scalar, "index" int (row in the table).
    """

    def __init__(self, table: dict[str, np.ndarray], split: str = "train") -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.rows = np.flatnonzero(table["split"] == SPLITS.index(split))
        self.table = table

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        r = self.rows[i]
        t = self.table
        return {
            "CT": torch.from_numpy(table_images(t, "CT", r)),
            "MR": torch.from_numpy(table_images(t, "MR", r)),
            "has": torch.from_numpy(t["has"][r].astype(np.float32)),
            "head": torch.from_numpy(t["head"][r][None].astype(np.float32)),
            "lesion": torch.from_numpy(t["lesion"][r][None].astype(np.float32)),
            "label": torch.tensor(float(t["label"][r])),
            "index": torch.tensor(int(r)),
        }
