"""What every source adapter is: settings from the YAML, and batches of rows after a cursor."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict

from carehub.errors import ConfigError


def _known_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}; use an IANA name such as Asia/Shanghai") from None
    return zone


#: An IANA time zone name, checked when the YAML is loaded.
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]


class SourceNotReady(ConfigError):
    """The source (a file, a folder) is not there yet; a continuous connector waits for it."""


class SourceRefused(ConfigError):
    """The source answered with an error no retry can fix; the message names the setting to change."""


@dataclass(frozen=True, slots=True)
class SourceRow:
    position: str  # where a person finds the row again, e.g. "persons.csv:42" or "persons:id=42"
    values: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class Batch:
    rows: list[SourceRow]
    cursor: dict  # the cursor to store once every row of the batch is acknowledged


class Source(abc.ABC):
    """Reads increments of one source system; the runner stores the cursors it hands back.

    The runner publishes each batch, waits for the broker's acknowledgement, saves `batch.cursor`
    and then calls `finish(batch)`; the next `batches()` call receives the last saved cursor."""

    @abc.abstractmethod
    def batches(self, cursor: dict | None, batch_size: int) -> Iterator[Batch]:
        """Rows after `cursor`, in batches of at most `batch_size` rows."""

    def finish(self, batch: Batch) -> None:  # noqa: B027 - most sources need no hook
        """Called once `batch.cursor` is saved: the place for side effects such as moving a file."""


class SourceSettings(BaseModel, abc.ABC):
    """A source's section of the connector YAML; `kind` selects the adapter."""

    model_config = ConfigDict(extra="forbid")

    def resolved(self, base: Path, environ: Mapping[str, str]) -> Self:
        """A copy with relative paths made relative to `base` (the YAML's folder) and secrets read
        from the environment variables the YAML names; called once, by `load_config`."""
        return self

    @abc.abstractmethod
    def open(self) -> Source:
        """The adapter that reads this source."""


def secret_from(environ: Mapping[str, str], variable: str, setting: str) -> str:
    """The value of the environment variable a YAML setting names, or an error saying what to set."""
    value = environ.get(variable, "").strip()
    if not value:
        raise ConfigError(f"{setting} names the environment variable {variable}, which is not set; export it")
    return value
