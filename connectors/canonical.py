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

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from carehub import codes
from carehub.identifiers import credit_code, division, resident_id
from carehub.pii import Protector
from connectors.sdk.record import CanonicalRecord, Envelope, Problem

AMOUNT_PRECISION, AMOUNT_SCALE = 12, 2  # Avro bytes decimal(12, 2): up to 9,999,999,999.99 yuan
_LIST_SEPARATORS = re.compile(r"[,;|、，；\s]+")
#: The warning on a record published without a resident ID; an invalid one warns under its own rule.
MISSING_ID_RULE = "resident_id.missing"
_MISSING_ID: ErrorDetails = {"type": "missing", "loc": ("resident_id",), "msg": "Field required", "input": None}
#: What the warning on a record kept without a valid resident ID says, by rule; any other rule: _INVALID_ID_WARNING.
_WITHOUT_ID_WARNINGS = {
    MISSING_ID_RULE: "missing: published without a person key, to be matched to an elder by its identity hints",
}
_INVALID_ID_WARNING = "invalid: published without a person key, to be matched to an elder by its identity hints"
_SHORTEST_ID = 15  # an old 15-digit ID; anything shorter is masked completely


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


def masked_as_given(value: str) -> str:
    """The masked form of an ID that may be malformed, never its plaintext whatever its length: as
    long as an ID, its address code and last four characters show; shorter, none does."""
    return resident_id.mask(value) if len(value) >= _SHORTEST_ID else "*" * len(value)


def _rejection(model: type[BaseModel], errors: list[ErrorDetails]) -> ValidationError:
    """A ValidationError of `errors`, in the order of the model's fields as pydantic reports them."""
    order = {name: position for position, name in enumerate(model.model_fields)}
    ordered = sorted(errors, key=lambda e: order.get(str(e["loc"][0]), len(order)) if e["loc"] else len(order))
    return ValidationError.from_exception_data(model.__name__, [
        InitErrorDetails(type=PydanticCustomError(e["type"], e["msg"]), loc=e["loc"], input=e.get("input")) for e in ordered
    ])


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
    #: Date fields of events in the person's life: none may precede the person's birth date.
    life_dates: ClassVar[tuple[str, ...]] = ()
    not_in_avro: ClassVar[frozenset[str]] = SourceRecord.not_in_avro | {"resident_id"}

    resident_id: ResidentIdText

    @property
    def birth_date_in_id(self) -> date:
        return resident_id.ResidentId(self.resident_id).birth_date

    def known_birth(self) -> tuple[date, str] | None:
        """The birth date life dates are checked against, and the field it comes from."""
        return self.birth_date_in_id, "resident_id"

    @model_validator(mode="after")
    def _not_before_birth(self) -> PersonRecord:
        birth = self.known_birth()
        if birth is None:
            return self
        born, source = birth
        for name in self.life_dates:
            value = getattr(self, name)
            if value is not None and value < born:
                raise PydanticCustomError(
                    "date.before_birth", "{field} is before the birth date in {source}", {"field": name, "source": source}
                )
        return self

    def warnings(self) -> list[Problem]:
        return super().warnings() + self.identity_warnings()

    def identity_warnings(self) -> list[Problem]:
        """What is doubtful about the resident ID: an address code missing from the GB/T 2260 tables."""
        unknown_address = not division.is_known_division(resident_id.ResidentId(self.resident_id).address_code)
        return (
            [Problem("resident_id", "resident_id.address_unknown", "address code is not a GB/T 2260 code known to have existed")]
            if unknown_address else []
        )

    def protected_identity(self, protector: Protector) -> dict[str, Any]:
        """The Avro identity fields: person key, the ID encrypted, and masked."""
        rid = self.resident_id
        return {"person_key": protector.person_key(rid), "resident_id_encrypted": protector.encrypt(rid),
                "resident_id_masked": protector.mask(rid)}

    def to_avro(self, protector: Protector, envelope: Envelope) -> dict[str, Any]:
        avro = super().to_avro(protector, envelope)
        avro.update(self.protected_identity(protector))
        return avro


class _HintedKeyField:
    """`key_field` of a hinted person record: its person key; for a record published without one
    (its resident ID is missing or invalid), its source record id, so its versions share a partition."""

    def __get__(self, record: HintedPersonRecord | None, owner: type) -> str:
        return "person_key" if record is None or record.resident_id is not None else "source_record_id"


class HintedPersonRecord(PersonRecord):
    """A person record from a source whose resident IDs are not reliable: it also carries who the
    source says the person is (the identity hints). With the hints `without_id_needs` names, a
    record whose ID is missing or breaks its rules is still published, with a warning under the
    ID's rule and without a person key, for the reconciler to match to an elder; without them it
    is rejected like any person record. A hint that disagrees with a valid ID is kept as the source
    said it, for the reconciler to record as a conflict."""

    key_field = _HintedKeyField()
    #: The hints that, all given, stand in for a missing or invalid resident ID.
    without_id_needs: ClassVar[tuple[str, ...]] = ("person_name", "person_birth_date")

    resident_id: ResidentIdText | None = None
    person_name: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    person_sex: Annotated[str, code(codes.SEX, "sex.code")] | None = None
    person_birth_date: PastDate | None = None
    person_division: DivisionCode | None = None
    _id_problem: Problem | None = PrivateAttr(default=None)  # the warning of a record kept without a valid ID
    _id_as_given: str | None = PrivateAttr(default=None)  # its invalid ID, normalised; never published in plaintext

    def known_birth(self) -> tuple[date, str] | None:
        """The birth date in a valid ID; without one, the birth date the source gives."""
        if self.resident_id is not None:
            return super().known_birth()
        return None if self.person_birth_date is None else (self.person_birth_date, "person_birth_date")

    @model_validator(mode="wrap")
    @classmethod
    def _valid_id_or_hints(cls, data: Any, handler: ModelWrapValidatorHandler[HintedPersonRecord]) -> HintedPersonRecord:
        try:
            record = handler(data)
        except ValidationError as rejected:
            return cls._kept_without_valid_id(data, rejected, handler)
        if record.resident_id is None:
            if not cls._hints_given(data):
                raise _rejection(cls, [_MISSING_ID]) from None
            record._keep_without_valid_id(MISSING_ID_RULE, None)
        return record

    @classmethod
    def _kept_without_valid_id(
        cls, data: Any, rejected: ValidationError, handler: ModelWrapValidatorHandler[HintedPersonRecord]
    ) -> HintedPersonRecord:
        """The record validated without its ID, when the ID is all that is wrong and the hints are
        given; otherwise the rejection, naming a missing ID as a required field does."""
        errors = rejected.errors(include_url=False)
        given = data.get("resident_id") if isinstance(data, dict) else None
        id_rules = [e["type"] for e in errors if e["loc"] == ("resident_id",)]
        if not cls._hints_given(data):
            if _normalised(given) is None:
                raise _rejection(cls, [_MISSING_ID, *errors]) from None
            raise rejected
        if not id_rules or len(id_rules) < len(errors):
            raise rejected
        record = handler({**data, "resident_id": None})
        record._keep_without_valid_id(id_rules[0], resident_id.normalise(str(given)))
        return record

    @classmethod
    def _hints_given(cls, data: Any) -> bool:
        return isinstance(data, dict) and all(_normalised(data.get(name)) is not None for name in cls.without_id_needs)

    def _keep_without_valid_id(self, rule: str, id_as_given: str | None) -> None:
        self._id_problem = Problem("resident_id", rule, _WITHOUT_ID_WARNINGS.get(rule, _INVALID_ID_WARNING))
        self._id_as_given = id_as_given

    def identity_warnings(self) -> list[Problem]:
        return super().identity_warnings() if self._id_problem is None else [self._id_problem]

    def protected_identity(self, protector: Protector) -> dict[str, Any]:
        """Without a valid ID: no person key; the ID as given, if any, encrypted and masked."""
        if self.resident_id is not None:
            return super().protected_identity(protector)
        given = self._id_as_given
        return {"person_key": None, "resident_id_encrypted": None if given is None else protector.encrypt(given),
                "resident_id_masked": None if given is None else masked_as_given(given)}


class InstitutionRecord(SourceRecord):
    """A record about one provider, keyed by its unified social credit code."""

    key_field: ClassVar[str] = "credit_code"

    credit_code: CreditCode
