"""Dead letters read back from their topic, the selection a user makes, and the replay ledger."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from carehub.broker.base import Message, TopicPartition
from carehub.db.engine import open_database
from carehub.dlq import CONTEXT_HEADERS, HEADER_PREFIX, DeadLetter, StoredLetter
from carehub.dlq.ledger import Outcome, record_replayed, replayed
from carehub.dlq.queues import Selection
from carehub.dlq.replay import source_position
from carehub.pii import Protector

PROTECTOR = Protector(b"a test secret that is long enough for the hub")
LETTER = DeadLetter(
    origin="registry-person-csv", position="persons.csv:4", stage="validate", field="sex", rule="sex.code",
    error_class="Rejected", message="sex: not in the code table [sex.code]", shown={"身份证号": "110105********002X"},
    original='{"身份证号": "11010519491231002X"}'.encode(),
)


def _as_stored(letter: DeadLetter, offset: int = 7, at_ms: int = 1_700_000_000_000) -> StoredLetter:
    message = Message("dlq.registry-person-csv", 0, offset, letter.position.encode(), letter.value(PROTECTOR), at_ms,
                      letter.headers())
    return StoredLetter.from_message(message)


def test_a_dead_letter_reads_back_with_its_context_masked_record_and_decryptable_original() -> None:
    stored = _as_stored(LETTER)

    assert stored.address == "dlq.registry-person-csv/0/7"
    assert (stored.rule, stored.context["source.position"], stored.context["stage"]) == ("sex.code", "persons.csv:4", "validate")
    assert stored.record == {"身份证号": "110105********002X"}
    assert "11010519491231002X" not in (stored.original_encrypted or "")
    assert stored.original(PROTECTOR) == LETTER.original
    assert "replay.of" not in stored.context


def test_every_context_header_written_is_documented_and_replay_of_appears_only_on_replays() -> None:
    again = _as_stored(replace(LETTER, replay_of="dlq.x/0/7"))

    assert set(again.context) == set(CONTEXT_HEADERS)
    assert again.context["replay.of"] == "dlq.x/0/7"
    assert all(name.startswith(HEADER_PREFIX) for name, _ in LETTER.headers())


def test_a_value_that_is_not_a_dead_letter_keeps_its_headers_and_is_not_replayable() -> None:
    stored = StoredLetter.from_message(Message("dlq.x", 0, 0, None, b"\x00garbage", 0, LETTER.headers()))

    assert stored.rule == "sex.code"
    assert stored.record is None and stored.original(PROTECTOR) is None


def test_an_original_written_under_another_secret_does_not_decrypt() -> None:
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        _as_stored(LETTER).original(Protector(b"another secret, also long enough for the hub"))


def test_selection_by_rule_and_half_open_time_range() -> None:
    at = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    stored = _as_stored(LETTER, at_ms=int(at.timestamp() * 1000))

    assert Selection().matches(stored)
    assert Selection(rule="sex.code", since=at, until=datetime(2026, 11, 1, 8, 1, tzinfo=UTC)).matches(stored)
    assert not Selection(rule="resident_id.checksum").matches(stored)
    assert not Selection(until=at).matches(stored)
    assert not Selection(since=datetime(2026, 11, 1, 8, 1, tzinfo=UTC)).matches(stored)


@pytest.mark.parametrize(("position", "expected"), [
    ("pilot-js.src.registry.person.v1/2/41", (TopicPartition("pilot-js.src.registry.person.v1", 2), 41)),
    ("persons.csv:4", None),
    ("topic/x/1", None),
    ("/0/1", None),
])
def test_a_reconcilers_position_names_topic_partition_and_offset(position: str, expected: object) -> None:
    assert source_position(position) == expected


def test_the_ledger_records_each_dead_letter_once(database_url: str) -> None:
    engine = open_database(database_url)
    first, second = _as_stored(LETTER, offset=7), _as_stored(LETTER, offset=8)

    with engine.begin() as conn:
        record_replayed(conn, [(first, Outcome.PUBLISHED), (second, Outcome.REJECTED)])
    with engine.connect() as conn:
        assert replayed(conn, first.topic) == {(0, 7): Outcome.PUBLISHED, (0, 8): Outcome.REJECTED}
        assert replayed(conn, "dlq.other") == {}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        record_replayed(conn, [(first, Outcome.PUBLISHED)])
    engine.dispose()
