"""The six basic datasets (基本数据集) of the pilot, each a table and a pure builder over entity views."""

from consumers.datasets.base import Dataset
from consumers.datasets.care_service import CARE_SERVICE
from consumers.datasets.elder import ELDER
from consumers.datasets.health_record import HEALTH_RECORD
from consumers.datasets.institution import INSTITUTION_DATASET
from consumers.datasets.practitioner import PRACTITIONER_DATASET
from consumers.datasets.supervision import SUPERVISION

DATASETS: tuple[Dataset, ...] = (ELDER, HEALTH_RECORD, CARE_SERVICE, INSTITUTION_DATASET, PRACTITIONER_DATASET, SUPERVISION)


def dataset(name: str) -> Dataset:
    for found in DATASETS:
        if found.name == name:
            return found
    raise KeyError(name)


__all__ = ["DATASETS", "Dataset", "dataset"]
