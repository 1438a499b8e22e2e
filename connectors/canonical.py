"""Validated field types and the base classes every canonical record module builds on."""

from __future__ import annotations

import json
import re
import typing
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from carehub import codes
from carehub.identifiers import credit_code, division, resident_id
from carehub.pii import Protector
from connectors.sdk.record import CanonicalRecord, Envelope, Problem

AMOUNT_PRECISION, AMOUNT_SCALE = 12, 2  # Avro bytes decimal(12, 2): up to 9,999,999,999.99 yuan
_LIST_SEPARATORS = re.compile(r"[,;|、，；\s]+")


def _normalised(value: Any) -> Any:
    """Full-width to half-width (NFKC) and trimmed, recursively; blank strings become None."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        return text or None
    if isinstance(value, list | tuple):
        return [_normalised(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    return value


def _resident_id(raw: str) -> str:
    try:
        return resident_id.parse(raw).value
    except resident_id.ResidentIdError as exc:
        raise PydanticCustomError(exc.rule, str(exc)) from None


def _credit_code(raw: str) -> str:
    try:
        return credit_code.parse(raw)
    except credit_code.CreditCodeError as exc:
        raise PydanticCustomError(exc.rule, str(exc)) from None


def _division_code(value: str) -> str:
    if not division.is_well_formed(value):
        raise PydanticCustomError("division.format", "must be a 6-digit GB/T 2260 division code")
    return value


def _amount(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise PydanticCustomError("amount.format", "must be a finite number of yuan")
    if value < 0:
        raise PydanticCustomError("amount.negative", "must not be negative")
    if value != value.quantize(Decimal(1).scaleb(-AMOUNT_SCALE)) or value >= Decimal(10) ** (AMOUNT_PRECISION - AMOUNT_SCALE):
        raise PydanticCustomError("amount.precision", "must have at most 10 integer digits and 2 decimals (fen)")
    return value.quantize(Decimal(1).scaleb(-AMOUNT_SCALE))


def _not_in_future(value: date) -> date:
    if value > date.today():
        raise PydanticCustomError("date.future", "must not be in the future")
    return value


def _split_list(value: Any) -> Any:
    """A CSV cell lists codes separated by commas, semicolons, 、 or blanks."""
    return [part for part in _LIST_SEPARATORS.split(value) if part] if isinstance(value, str) else value


def _json_list(value: Any) -> Any:
    """A CSV cell carries structured items as a JSON array."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise PydanticCustomError("json_list.format", "must be a JSON array") from None


def code(table: Mapping[Any, str], rule: str) -> AfterValidator:
    """Accept only keys of a code table from carehub.codes; the error names the valid codes."""
    valid = ", ".join(str(k) for k in table)

    def check(value: Any) -> Any:
        if value not in table:
            raise PydanticCustomError(rule, "not in the code table; valid codes: {valid}", {"valid": valid})
        return value

    return AfterValidator(check)


def measured(kind: str) -> AfterValidator:
    """Accept only values in the plausible range of carehub.codes.MEASUREMENT_RANGES[kind]."""
    low, high = codes.MEASUREMENT_RANGES[kind]

    def check(value: float) -> float:
        if not low <= value <= high:
            raise PydanticCustomError("measurement.range", "outside the plausible range {low}-{high}", {"low": low, "high": high})
        return value

    return AfterValidator(check)


def score(maximum: int) -> AfterValidator:
    def check(value: int) -> int:
        if not 0 <= value <= maximum:
            raise PydanticCustomError("score.range", "must be a score from 0 to {maximum}", {"maximum": maximum})
        return value

    return AfterValidator(check)


class _DivisionMarker:
    """Marks a field whose code `warnings()` checks against the GB/T 2260 tables."""


_DIVISION = _DivisionMarker()

ResidentIdText = Annotated[str, AfterValidator(_resident_id)]
CreditCode = Annotated[str, AfterValidator(_credit_code)]
DivisionCode = Annotated[str, AfterValidator(_division_code), _DIVISION]
Amount = Annotated[Decimal, AfterValidator(_amount)]
PastDate = Annotated[date, AfterValidator(_not_in_future)]
Codes = BeforeValidator(_split_list)
JsonList = BeforeValidator(_json_list)


def _is_division(annotation: Any) -> bool:
    return any(arg is _DIVISION or _is_division(arg) for arg in typing.get_args(annotation))


class Part(BaseModel):
    """A nested part of a record (an array item): immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="forbid")


class SourceRecord(CanonicalRecord):
    """Base of every canonical record: normalised input, ordered date pairs, division warnings
    and an Avro form made of the envelope plus every field."""

    #: (earlier, later) date fields: the later may not precede the earlier when both are known.
    ordered_dates: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: Fields typed DivisionCode, found when a subclass is defined.
    division_fields: ClassVar[tuple[str, ...]] = ()
    not_in_avro: ClassVar[frozenset[str]] = frozenset({"source_record_id", "source_version", "event_time"})

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.division_fields = tuple(
            name for name, field in cls.model_fields.items()
            if _DIVISION in field.metadata or _is_division(field.annotation)
        )

    @model_validator(mode="before")
    @classmethod
    def _normalise_input(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        normalised = {}
        for name, value in data.items():
            # Strings (nearly every value) inline: half the cost of a _normalised() call each.
            value = (unicodedata.normalize("NFKC", value).strip() or None) if type(value) is str else _normalised(value)
            if value is not None:
                normalised[name] = value
        return normalised

    @model_validator(mode="after")
    def _dates_in_order(self) -> SourceRecord:
        for earlier, later in self.ordered_dates:
            first, then = getattr(self, earlier), getattr(self, later)
            if first is not None and then is not None and then < first:
                raise PydanticCustomError("date.order", "{later} is before {earlier}", {"later": later, "earlier": earlier})
        return self

    def warnings(self) -> list[Problem]:
        """What is doubtful but accepted: division codes missing from the GB/T 2260 tables, which
        lag behind new divisions. A pure function of the record for the pipeline to count or log."""
        return [
            Problem(name, "division.unknown", "not a GB/T 2260 division code known to have existed")
            for name in self.division_fields
            if getattr(self, name) is not None and not division.is_known_division(getattr(self, name))
        ]

    def payload(self) -> dict[str, Any]:
        """The record's own fields as Avro values."""
        return self.model_dump(exclude=self.not_in_avro)

    def to_avro(self, protector: Protector, envelope: Envelope) -> dict[str, Any]:
        avro = self.envelope_fields(envelope)
        avro.update(self.payload())
        for name, value in avro.items():  # a time without a zone is in the source's zone, not ours
            if isinstance(value, datetime) and value.tzinfo is None:
                avro[name] = value.replace(tzinfo=envelope.timezone)
        return avro


class PersonRecord(SourceRecord):
    """A record about one resident, keyed by the person key of its resident ID."""

    key_field: ClassVar[str] = "person_key"
    #: Date fields of events in the person's life: none may precede the birth date in the ID.
    life_dates: ClassVar[tuple[str, ...]] = ()
    not_in_avro: ClassVar[frozenset[str]] = SourceRecord.not_in_avro | {"resident_id"}

    resident_id: ResidentIdText

    @property
    def birth_date_in_id(self) -> date:
        return resident_id.ResidentId(self.resident_id).birth_date

    @model_validator(mode="after")
    def _not_before_birth(self) -> PersonRecord:
        for name in self.life_dates:
            value = getattr(self, name)
            if value is not None and value < self.birth_date_in_id:
                raise PydanticCustomError("date.before_birth", "{field} is before the birth date in resident_id", {"field": name})
        return self

    def warnings(self) -> list[Problem]:
        unknown_address = not division.is_known_division(resident_id.ResidentId(self.resident_id).address_code)
        return super().warnings() + (
            [Problem("resident_id", "resident_id.address_unknown", "address code is not a GB/T 2260 code known to have existed")]
            if unknown_address else []
        )

    def to_avro(self, protector: Protector, envelope: Envelope) -> dict[str, Any]:
        avro = super().to_avro(protector, envelope)
        rid = self.resident_id
        avro["person_key"] = protector.person_key(rid)
        avro["resident_id_encrypted"] = protector.encrypt(rid)
        avro["resident_id_masked"] = protector.mask(rid)
        return avro


class InstitutionRecord(SourceRecord):
    """A record about one provider, keyed by its unified social credit code."""

    key_field: ClassVar[str] = "credit_code"

    credit_code: CreditCode
