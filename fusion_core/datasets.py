"""Axial slice data sets from phantom cohorts, with the intensity scaling every network uses.

Intensity scaling (the same at training and inference, no mask needed from the user):

* CT: Hounsfield units clipped to [-1024, 3000] and mapped piecewise-linearly to [-1, 1] with
  knots chosen to keep soft-tissue contrast (-100..100 HU spans 0.5 units instead of 0.05 with a
  single linear map): ``CT_KNOTS_HU`` -> ``CT_KNOTS_UNIT``. ``unit_to_ct`` inverts it exactly.
* MR: percentiles (0.5, 99.5) of the voxels inside a head mask found on the MR itself (Otsu
  threshold, holes filled slice-wise) mapped to [-1, 1] and clipped, so site gain and bias do not
  change the network's input range.

Slices are centre-cropped in-plane to ``crop_fraction`` of the field of view (the brain sits in
the middle of the phantom's FOV, so a crop enlarges lesions in network pixels) and resized to
``image_size`` (area averaging); a slice is kept when its head covers ``min_head_fraction`` of it
and its brain covers ``min_brain_fraction`` of the subject's largest brain section (so neck and
vertex slices, which never hold a lesion, cannot teach "slice position"), every
``slice_step``-th such slice. The slice label is 1 when it
holds at least ``lesion_min_voxels`` lesion voxels (on the native grid). The subject-level
probability used by ``fusion_core.inference.classify`` is the mean of the top-k slice probabilities
(k = 3): robust to one noisy slice, still sensitive to small lesions spanning few slices.
Splits are by subject (never slice), stratified by the subject label, drawn with ``split_seed``. Generated tables are cached as npz
under ``cache_dir`` (git-ignored ``data/cache``), keyed by a hash of the config.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

CT_KNOTS_HU = np.array([-1024.0, -200.0, -100.0, 100.0, 300.0, 3000.0])
CT_KNOTS_UNIT = np.array([-1.0, -0.6, -0.5, 0.0, 0.2, 1.0])
SPLITS = ("train", "val", "test")
TOP_K = 3
TABLE_VERSION = 3  # bump when the table generation changes, so stale caches are not reused
# Options added after TABLE_VERSION 2: left out of the cache key at their default (no-op) value.
_KEY_DEFAULTS = {"min_brain_fraction": 0.0, "crop_fraction": 1.0, "mr_lesion": "oedema", "neighbours": 0}


def ct_to_unit(hu: np.ndarray) -> np.ndarray:
    """HU -> network units in [-1, 1] (piecewise linear, see module docstring)."""
    return np.interp(np.clip(hu, CT_KNOTS_HU[0], CT_KNOTS_HU[-1]), CT_KNOTS_HU, CT_KNOTS_UNIT).astype(np.float32)


def unit_to_ct(unit: np.ndarray) -> np.ndarray:
    """Network units -> HU; inverse of ``ct_to_unit`` on [-1, 1] (values outside are clipped)."""
    return np.interp(np.clip(unit, -1.0, 1.0), CT_KNOTS_UNIT, CT_KNOTS_HU).astype(np.float32)


def head_mask_from_mr(array: np.ndarray) -> np.ndarray:
    """Boolean head mask of an MR (z, y, x): Otsu threshold on the volume, holes filled per slice."""
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    finite = np.nan_to_num(array)
    if finite.max() <= finite.min():
        return np.zeros(array.shape, dtype=bool)
    mask = finite > 0.5 * threshold_otsu(finite)
    return np.stack([ndimage.binary_fill_holes(s) for s in mask])


def mr_to_unit(array: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, float]]:
    """MR (z, y, x) -> [-1, 1] by within-head percentiles.

    Returns:
        (scaled array float32, {"low": p0.5, "high": p99.5} used).
    """
    mask = head_mask_from_mr(array) if mask is None else mask
    values = array[mask] if mask.any() else array.ravel()
    low, high = (float(v) for v in np.percentile(values, [0.5, 99.5]))
    scaled = 2.0 * (array - low) / max(high - low, 1e-6) - 1.0
    return np.clip(scaled, -1.0, 1.0).astype(np.float32), {"low": low, "high": high}


def crop_window(shape: tuple[int, int], fraction: float) -> tuple[slice, slice]:
    """(y, x) slices of the centred window covering ``fraction`` of a (ny, nx) slice (1.0 = all)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"crop fraction must be in (0, 1], got {fraction}")
    (ny, nx), (cy, cx) = shape, (round(shape[0] * fraction), round(shape[1] * fraction))
    y0, x0 = (ny - cy) // 2, (nx - cx) // 2
    return slice(y0, y0 + cy), slice(x0, x0 + cx)


def crop_slices(array: np.ndarray, fraction: float) -> np.ndarray:
    """Centre crop of each (y, x) slice of (n, y, x) to ``fraction`` of its size (see ``crop_window``)."""
    return array[(slice(None), *crop_window(array.shape[1:], fraction))]


def uncrop_slices(array: np.ndarray, shape: tuple[int, int], fraction: float, *, fill: float = 0.0) -> np.ndarray:
    """Inverse of ``crop_slices``: (n, cy, cx) pasted into the centre of (n, *shape) filled with ``fill``."""
    out = np.full((array.shape[0], *shape), fill, dtype=array.dtype)
    out[(slice(None), *crop_window(shape, fraction))] = array
    return out


def resize_slices(array: np.ndarray, size: int, *, mode: str = "area") -> np.ndarray:
    """Resize each (y, x) slice of (n, y, x) to (size, size); ``mode`` as in torch interpolate."""
    t = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).unsqueeze(1)
    kwargs = {} if mode in ("area", "nearest") else {"align_corners": False}
    return torch.nn.functional.interpolate(t, size=(size, size), mode=mode, **kwargs)[:, 0].numpy()


@dataclasses.dataclass(frozen=True)
class SliceDataConfig:
    """Which phantom cohort to slice and how.

    Attributes:
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
        cache_dir: where generated tables are cached.
    """

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
    cache_dir: str = "data/cache"

    def cache_key(self) -> str:
        fields = {
            k: v
            for k, v in dataclasses.asdict(self).items()
            if k != "cache_dir" and not (k in _KEY_DEFAULTS and v == _KEY_DEFAULTS[k])
        }
        fields["table_version"] = TABLE_VERSION
        return hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:12]


def split_subjects(
    n: int, fractions: tuple[float, float, float], seed: int, labels: np.ndarray | None = None
) -> np.ndarray:
    """(n,) split index per subject (0 train, 1 val, 2 test) from a seeded permutation.

    With ``labels`` the split is stratified: each label's subjects are divided by ``fractions``
    separately, so every split gets its share of lesion subjects.
    """
    labels = np.zeros(n, dtype=int) if labels is None else np.asarray(labels)
    rng = np.random.default_rng(seed)
    split = np.zeros(n, dtype=np.int64)
    for value in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == value))
        bounds = np.round(np.cumsum(fractions) / sum(fractions) * len(members)).astype(int)
        split[members[bounds[0] : bounds[1]]] = 1
        split[members[bounds[1] :]] = 2
    return split


def keep_slices(head: np.ndarray, config: SliceDataConfig, brain: np.ndarray | None = None) -> np.ndarray:
    """Indices of the slices of a (z, y, x) head mask (and optional brain mask) to keep."""
    keep = head.reshape(head.shape[0], -1).mean(1) >= config.min_head_fraction
    if brain is not None and config.min_brain_fraction > 0:
        area = brain.reshape(brain.shape[0], -1).sum(1)
        keep &= area >= config.min_brain_fraction * max(area.max(), 1)
    return np.flatnonzero(keep)[:: config.slice_step]


def network_slices(array: np.ndarray, size: int, crop_fraction: float) -> np.ndarray:
    """(n, y, x) native slices -> (n, S, S): centre crop, then resize (area when shrinking, bilinear when
    the crop is smaller than S). Training and inference both go through here, so they see the same pixels."""
    cropped = crop_slices(array, crop_fraction)
    mode = "area" if min(cropped.shape[1:]) >= size else "bilinear"
    return resize_slices(cropped, size, mode=mode)


def to_slices(array: np.ndarray, config: SliceDataConfig) -> np.ndarray:
    """(n, y, x) native slices -> (n, S, S) network slices for this data config."""
    return network_slices(array, config.image_size, config.crop_fraction)


def neighbour_indices(idx: np.ndarray, k: int, n_slices: int) -> np.ndarray:
    """(len(idx), 2k+1) slice indices idx-k .. idx+k, clipped to the volume (ends repeat)."""
    offsets = np.arange(-k, k + 1)
    return np.clip(np.asarray(idx)[:, None] + offsets[None, :], 0, n_slices - 1)


def to_network_input(array: np.ndarray, idx: np.ndarray, config: SliceDataConfig) -> np.ndarray:
    """Slices ``idx`` of a scaled (z, y, x) volume as network input: (n, S, S) for 2-D, or
    (n, 2k+1, S, S) with ``config.neighbours`` = k (2.5-D)."""
    if config.neighbours <= 0:
        return to_slices(array[idx], config)
    nb = neighbour_indices(idx, config.neighbours, array.shape[0])
    flat = to_slices(array[nb.ravel()], config)
    return flat.reshape(nb.shape[0], nb.shape[1], *flat.shape[1:])


def subject_arrays(subject: Any, config: SliceDataConfig) -> dict[str, np.ndarray]:
    """Scaled, resized slices of one phantom subject (missing modality -> zeros, flagged)."""
    ct = subject.ct
    mr = subject.mr_on_ct_grid() if (config.paired and ct is not None) else subject.mr
    ref = ct if ct is not None else mr
    head = subject.masks["head"].array > 0.5 if "head" in subject.masks else None
    if head is None or head.shape != ref.shape:
        head = ct.array > -500 if ct is not None else head_mask_from_mr(mr.array)
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
    out["MR"] = to_network_input(mr_to_unit(mr.array)[0], idx, config) if mr is not None else None
    out["lesion"] = (
        to_slices((lesion.array[idx] > 0.5).astype(np.float32), config) > 0.5
        if lesion is not None
        else np.zeros_like(out["head"])
    )
    out["label"] = (per_slice[idx] >= config.lesion_min_voxels).astype(np.int64)
    out["lesion_voxels"] = per_slice[idx].astype(np.int64)
    out["slice"] = idx.astype(np.int64)
    return out


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
    path = Path(config.cache_dir) / f"slices_{config.cache_key()}.npz"
    if path.exists():
        with np.load(path) as data:
            return dict(data)
    table = _generate(config, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **table)
    tmp.replace(path)
    return table


def iter_phantom_cohort(config: SliceDataConfig) -> Iterator[Any]:
    """The phantom subjects a SliceDataConfig describes (see ``complementary``), one at a time."""
    from fusion_core.data.phantom import iter_cohort

    opts = dict(config.phantom_options)
    if not config.complementary:
        yield from iter_cohort(config.n_subjects, seed=config.seed, paired=config.paired, **opts)
        return
    half = config.n_subjects // 2
    calcified = iter_cohort(
        half,
        seed=config.seed,
        paired=config.paired,
        lesion_type="calcified",
        conspicuity={"CT": 1.0, "MR": config.faint},
        **opts,
    )
    mr_visible = iter_cohort(
        config.n_subjects - half,
        seed=config.seed + 1,
        paired=config.paired,
        lesion_type=config.mr_lesion,
        conspicuity={"CT": config.faint, "MR": 1.0},
        **opts,
    )
    for pair in itertools.zip_longest(calcified, mr_visible):
        yield from (s for s in pair if s is not None)


def lesion_groups(config: SliceDataConfig, subjects: np.ndarray) -> np.ndarray:
    """Which half of a complementary cohort each subject index belongs to: "calcified" (CT-visible) or
    ``config.mr_lesion`` (MR-visible), following the interleaving of :func:`iter_phantom_cohort`;
    "mixed" for every subject of a cohort that is not complementary."""
    subjects = np.asarray(subjects)
    if not config.complementary:
        return np.full(subjects.shape, "mixed", dtype=object)
    half = config.n_subjects // 2
    calcified = (subjects < 2 * half) & (subjects % 2 == 0)
    return np.where(calcified, "calcified", config.mr_lesion).astype(object)


def _generate(config: SliceDataConfig, *, progress: bool) -> dict[str, np.ndarray]:
    from tqdm.auto import tqdm

    parts, subject_labels = [], []
    cohort = iter_phantom_cohort(config)
    for i, subject in enumerate(tqdm(cohort, total=config.n_subjects, desc="slicing cohort", disable=not progress)):
        subject_labels.append(int(subject.label or 0))
        arr = subject_arrays(subject, config)
        n = len(arr["slice"])
        channels = () if config.neighbours <= 0 else (2 * config.neighbours + 1,)
        zeros = np.zeros((n, *channels, config.image_size, config.image_size), np.float32)
        has = np.array([[arr["CT"] is not None, arr["MR"] is not None]] * n, dtype=bool).reshape(n, 2)
        parts.append(
            {
                "CT": arr["CT"] if arr["CT"] is not None else zeros,
                "MR": arr["MR"] if arr["MR"] is not None else zeros,
                "has": has,
                "head": arr["head"],
                "lesion": arr["lesion"],
                "label": arr["label"],
                "lesion_voxels": arr["lesion_voxels"],
                "slice": arr["slice"],
                "subject": np.full(n, i, np.int64),
                "subject_label": np.full(n, int(subject.label or 0), np.int64),
            }
        )
    table = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    split = split_subjects(len(parts), config.split_fractions, config.split_seed, labels=np.array(subject_labels))
    table["split"] = split[table["subject"]]
    return table


def table_images(table: dict[str, np.ndarray], modality: str, rows) -> np.ndarray:
    """A modality's network input at ``rows`` of a slice table, channels first: (C, S, S) for one row,
    (n, C, S, S) for an index array; C = 1 for a 2-D table, 2k+1 for a 2.5-D one."""
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
