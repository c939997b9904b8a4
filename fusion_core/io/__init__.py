"""Reading and writing scans: NIfTI, MetaImage, NRRD, DICOM files and series, cohorts, uploads.

``load_volume`` is the one public reader; everything that goes wrong becomes a
``VolumeLoadError`` (a ``ValueError``) whose message names the file and the problem.
"""

from fusion_core.io.cohort import Cohort, load_cohort
from fusion_core.io.errors import CohortError, VolumeLoadError, VolumeSaveError
from fusion_core.io.readers import SUPPORTED, load_volume, load_volume_with_report
from fusion_core.io.upload import extract_zip_safely, load_upload
from fusion_core.io.writers import save_volume

__all__ = [
    "SUPPORTED",
    "Cohort",
    "CohortError",
    "VolumeLoadError",
    "VolumeSaveError",
    "extract_zip_safely",
    "load_cohort",
    "load_upload",
    "load_volume",
    "load_volume_with_report",
    "save_volume",
]
