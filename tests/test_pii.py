"""PII protection: stable person keys, reversible encryption, masking."""

from carehub.pii import Protector

RID = "11010519491231002X"


def test_person_key_is_stable_per_secret_and_differs_across_secrets() -> None:
    a, b = Protector(b"a" * 40), Protector(b"b" * 40)
    assert a.person_key(RID) == Protector(b"a" * 40).person_key(RID)
    assert a.person_key(RID) != b.person_key(RID)
    assert RID not in a.person_key(RID)


def test_encryption_round_trips_and_hides_the_id() -> None:
    p = Protector(b"k" * 40)
    token1, token2 = p.encrypt(RID), p.encrypt(RID)
    assert token1 != token2  # a fresh nonce each time: equal IDs do not look equal
    assert RID.encode() not in token1
    assert p.decrypt(token1) == p.decrypt(token2) == RID


def test_another_secret_cannot_decrypt() -> None:
    import pytest
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        Protector(b"x" * 40).decrypt(Protector(b"k" * 40).encrypt(RID))


def test_nonces_never_repeat_across_blocks_and_threads() -> None:
    import threading

    p = Protector(b"k" * 40)
    tokens: list[bytes] = []

    def encrypt_many() -> None:
        tokens.extend(p.encrypt(RID) for _ in range(5000))

    threads = [threading.Thread(target=encrypt_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({token[1:13] for token in tokens}) == len(tokens) == 20000
