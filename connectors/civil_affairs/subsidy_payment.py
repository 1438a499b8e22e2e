"""The subsidy-payment record: an amount of a subsidy type paid to a resident for a period."""

from __future__ import annotations

from typing import Annotated, ClassVar

from carehub import codes
from connectors.canonical import Amount, DivisionCode, HintedPersonRecord, PastDate, code


class SubsidyPayment(HintedPersonRecord):
    topic: ClassVar[str] = "src.civil_affairs.subsidy_payment.v1"
    schema_path: ClassVar[str] = "civil_affairs/subsidy_payment.avsc"
    life_dates: ClassVar[tuple[str, ...]] = ("period_start", "payment_date")
    ordered_dates: ClassVar[tuple[tuple[str, str], ...]] = (("period_start", "period_end"),)

    subsidy_type: Annotated[str, code(codes.SUBSIDY_TYPES, "subsidy_type.code")]
    amount: Amount
    period_start: PastDate
    period_end: PastDate
    payment_date: PastDate | None = None
    payer_division: DivisionCode
