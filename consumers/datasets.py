"""The dataset handlers a reconciler runs, one per source topic it consumes."""

from consumers.elder import ElderFromPerson
from consumers.engine import Handler


def all_handlers() -> list[Handler]:
    return [ElderFromPerson()]
