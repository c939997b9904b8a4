"""The one image data model: a voxel array with its physical geometry and modality.

Conventions (see DESIGN.md):

* ``array`` is float32 in index order (z, y, x), as ``SimpleITK.GetArrayFromImage`` returns it.
* ``spacing``, ``origin`` and ``direction`` follow ITK: (x, y, z) order, millimetres, LPS physical
  space, ``direction`` a row-major 3x3 matrix of direction cosines (columns are the index axes).
* The LPS <-> RAS conversion lives here and nowhere else (:func:`lps_to_ras_affine`,
  :meth:`Volume.from_ras_affine`, :attr:`Volume.ras_affine`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import SimpleITK as sitk

# Flipping x and y maps LPS coordinates to RAS and back (the matrix is its own inverse).
_LPS_RAS_FLIP = np.diag([-1.0, -1.0, 1.0, 1.0])

KNOWN_MODALITIES = ("CT", "MR", "MR-T1", "MR-T2", "MR-FLAIR", "PET", "UNKNOWN")


def normalise_modality(modality: str | None) -> str:
    """Upper-case a modality name and map common spellings onto the names used here.

    Args:
        modality: e.g. ``"ct"``, ``"MRI"``, ``"t1"``, ``"MR-T2"`` or ``None``.

    Returns:
        ``"CT"``, ``"MR"``, ``"MR-T1"``, ... or ``"UNKNOWN"`` for ``None``/empty.
    """
    if not modality:
        return "UNKNOWN"
    name = str(modality).strip().upper().replace("_", "-")
    aliases = {
        "MRI": "MR",
        "T1": "MR-T1",
        "T2": "MR-T2",
        "FLAIR": "MR-FLAIR",
        "MR-T1W": "MR-T1",
        "MR-T2W": "MR-T2",
        "CBCT": "CT",
        "PT": "PET",
    }
    return aliases.get(name, name)


def is_mr(modality: str) -> bool:
    """True for ``"MR"`` and its weightings (``"MR-T1"``, ``"MR-T2"``, ...)."""
    return normalise_modality(modality).startswith("MR")


def lps_to_ras_affine(affine: np.ndarray) -> np.ndarray:
    """Convert a 4x4 voxel->world affine between LPS and RAS world coordinates (either way)."""
    return _LPS_RAS_FLIP @ np.asarray(affine, dtype=np.float64)


@dataclasses.dataclass(frozen=True, eq=False)
class Volume:
    """A 3-D scan: voxels plus the geometry that places them in patient space.

    Attributes:
        array: (z, y, x) float32 voxels. CT is in Hounsfield units.
        spacing: (sx, sy, sz) voxel size in mm.
        origin: (ox, oy, oz) physical position of voxel (0, 0, 0) in mm, LPS.
        direction: 9 floats, row-major 3x3 direction cosines (ITK convention).
        modality: ``"CT"``, ``"MR"``, ``"MR-T1"``, ...
        name: free text shown to users (file name, subject id).
    """

    array: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    modality: str = "UNKNOWN"
    name: str = ""

    def __post_init__(self) -> None:
        array = np.asarray(self.array)
        if array.ndim != 3:
            raise ValueError(f"Volume needs a 3-D (z, y, x) array, got shape {array.shape}")
        if 0 in array.shape:
            raise ValueError(f"Volume has a zero-sized axis: shape {array.shape}")
        spacing = _float_tuple(self.spacing, 3, "spacing")
        if min(spacing) <= 0 or not np.all(np.isfinite(spacing)):
            raise ValueError(f"Volume spacing must be finite and positive, got {spacing}")
        direction = _float_tuple(self.direction, 9, "direction")
        if abs(abs(np.linalg.det(np.reshape(direction, (3, 3)))) - 1.0) > 1e-3:
            raise ValueError(f"Volume direction is not an orthonormal 3x3 matrix: {direction}")
        object.__setattr__(self, "array", np.ascontiguousarray(array, dtype=np.float32))
        object.__setattr__(self, "spacing", spacing)
        object.__setattr__(self, "origin", _float_tuple(self.origin, 3, "origin"))
        object.__setattr__(self, "direction", direction)
        object.__setattr__(self, "modality", normalise_modality(self.modality))

    # ----------------------------------------------------------------- geometry
    @property
    def shape(self) -> tuple[int, int, int]:
        """(z, y, x) voxel counts."""
        return tuple(int(n) for n in self.array.shape)  # type: ignore[return-value]

    @property
    def size_xyz(self) -> tuple[int, int, int]:
        """(x, y, z) voxel counts, ITK order."""
        z, y, x = self.shape
        return (x, y, z)

    @property
    def direction_matrix(self) -> np.ndarray:
        """3x3 direction cosines; column i is the physical direction of index axis i (x, y, z)."""
        return np.reshape(np.asarray(self.direction, dtype=np.float64), (3, 3))

    @property
    def affine(self) -> np.ndarray:
        """4x4 matrix mapping (x, y, z, 1) indices to LPS millimetres."""
        affine = np.eye(4)
        affine[:3, :3] = self.direction_matrix @ np.diag(self.spacing)
        affine[:3, 3] = self.origin
        return affine

    @property
    def ras_affine(self) -> np.ndarray:
        """4x4 matrix mapping (x, y, z, 1) indices to RAS millimetres (the NIfTI convention)."""
        return lps_to_ras_affine(self.affine)

    @property
    def extent_mm(self) -> tuple[float, float, float]:
        """Physical size along each index axis (x, y, z) in mm."""
        return tuple(float(n * s) for n, s in zip(self.size_xyz, self.spacing, strict=True))  # type: ignore[return-value]

    @property
    def center_mm(self) -> np.ndarray:
        """LPS position of the volume's centre (mm)."""
        return self.index_to_physical((np.asarray(self.size_xyz) - 1) / 2.0)

    def index_to_physical(self, index_xyz: Sequence[float] | np.ndarray) -> np.ndarray:
        """Map continuous (x, y, z) indices, shape (3,) or (n, 3), to LPS mm."""
        index = np.asarray(index_xyz, dtype=np.float64)
        return index @ self.affine[:3, :3].T + self.affine[:3, 3]

    def physical_to_index(self, points_mm: Sequence[float] | np.ndarray) -> np.ndarray:
        """Map LPS points, shape (3,) or (n, 3), to continuous (x, y, z) indices."""
        points = np.asarray(points_mm, dtype=np.float64)
        return (points - self.affine[:3, 3]) @ np.linalg.inv(self.affine[:3, :3]).T

    @property
    def orientation_code(self) -> str:
        """Three-letter code of the anatomical direction each index axis points to, e.g. ``"LPS"``.

        This is ITK/DICOM's reading (LPS space): an axial NIfTI in RAS+ storage reads ``"LPS"``
        here when its rows run right-to-left. Oblique axes take their dominant direction.
        """
        letters = (("L", "R"), ("P", "A"), ("S", "I"))
        code = ""
        for column in self.direction_matrix.T:
            axis = int(np.argmax(np.abs(column)))
            code += letters[axis][0] if column[axis] > 0 else letters[axis][1]
        return code

    def same_grid(self, other: Volume, *, atol: float = 1e-3) -> bool:
        """True when both volumes sample the same physical points (shape, spacing, origin, direction)."""
        return (
            self.shape == other.shape
            and np.allclose(self.spacing, other.spacing, atol=atol)
            and np.allclose(self.origin, other.origin, atol=atol)
            and np.allclose(self.direction, other.direction, atol=atol)
        )

    # -------------------------------------------------------------- constructors
    def with_array(self, array: np.ndarray, *, modality: str | None = None, name: str | None = None) -> Volume:
        """A new volume on the same grid holding ``array`` (same (z, y, x) shape)."""
        if np.shape(array) != self.shape:
            raise ValueError(f"with_array needs shape {self.shape}, got {np.shape(array)}")
        return dataclasses.replace(
            self,
            array=array,
            modality=self.modality if modality is None else modality,
            name=self.name if name is None else name,
        )

    def to_sitk(self) -> sitk.Image:
        """A SimpleITK image with the same voxels and geometry."""
        image = sitk.GetImageFromArray(self.array, isVector=False)
        image.SetSpacing(self.spacing)
        image.SetOrigin(self.origin)
        image.SetDirection(self.direction)
        return image

    @classmethod
    def from_sitk(cls, image: sitk.Image, *, modality: str | None = None, name: str = "") -> Volume:
        """Build a Volume from a 3-D scalar SimpleITK image (a 2-D image becomes one slice)."""
        if image.GetNumberOfComponentsPerPixel() != 1:
            raise ValueError(f"expected a scalar image, got {image.GetNumberOfComponentsPerPixel()} components")
        if image.GetDimension() == 2:
            image = sitk.JoinSeries(image)
        if image.GetDimension() != 3:
            raise ValueError(f"expected a 2-D or 3-D image, got {image.GetDimension()}-D")
        return cls(
            array=sitk.GetArrayFromImage(image).astype(np.float32, copy=False),
            spacing=image.GetSpacing(),
            origin=image.GetOrigin(),
            direction=image.GetDirection(),
            modality=modality or "UNKNOWN",
            name=name,
        )

    @classmethod
    def from_ras_affine(
        cls, array_xyz: np.ndarray, affine_ras: np.ndarray, *, modality: str | None = None, name: str = ""
    ) -> Volume:
        """Build a Volume from an (x, y, z)-ordered array and a NIfTI-style RAS affine.

        Args:
            array_xyz: (x, y, z) voxels, as nibabel returns them.
            affine_ras: 4x4 voxel->RAS mm affine (may include shear-free scaling and rotation).
            modality: the modality label (e.g. "CT"), or None.
            name: a display name.
        """
        affine = lps_to_ras_affine(affine_ras)
        linear = affine[:3, :3]
        spacing = np.linalg.norm(linear, axis=0)
        if np.any(spacing <= 0) or not np.all(np.isfinite(spacing)):
            raise ValueError(f"affine has a degenerate axis: spacing {spacing}")
        direction = linear / spacing
        # Orthonormalise: NIfTI qform/sform round-off can leave 1e-7 errors that ITK rejects.
        u, _, vt = np.linalg.svd(direction)
        direction = u @ vt
        return cls(
            array=np.transpose(np.asarray(array_xyz), (2, 1, 0)),
            spacing=tuple(spacing),
            origin=tuple(affine[:3, 3]),
            direction=tuple(direction.ravel()),
            modality=modality or "UNKNOWN",
            name=name,
        )

    def __repr__(self) -> str:
        lo, hi = (float(self.array.min()), float(self.array.max()))
        return (
            f"Volume({self.modality}, shape(z,y,x)={self.shape}, spacing={tuple(round(s, 3) for s in self.spacing)}, "
            f"orientation={self.orientation_code}, range=[{lo:.4g}, {hi:.4g}], name={self.name!r})"
        )


def _float_tuple(values: Sequence[float], n: int, what: str) -> tuple[float, ...]:
    flat = tuple(float(v) for v in np.asarray(values, dtype=np.float64).ravel())
    if len(flat) != n:
        raise ValueError(f"Volume {what} needs {n} numbers, got {len(flat)}")
    return flat
