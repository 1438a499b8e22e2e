"""Protection of resident IDs: pseudonymous person key, AES-GCM encryption and masking.

A resident ID never travels or rests in plaintext: topics and tables carry the person key
(HMAC-SHA256 of the normalised ID under the hub secret), the ID encrypted, and its masked form."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from carehub.identifiers.resident_id import mask

NONCE_BYTES = 12
_KEY_VERSION = b"\x01"  # lets a future key rotation tell old ciphertexts apart


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"carehub/" + purpose).derive(secret)


class Protector:
    """Pseudonymises, encrypts and masks resident IDs under one hub secret."""

    def __init__(self, secret: bytes):
        self._keyed_hash = hmac.new(_derive(secret, b"person-key"), digestmod=hashlib.sha256)
        self._aead = AESGCM(_derive(secret, b"resident-id"))

    def person_key(self, normalised_id: str) -> str:
        keyed_hash = self._keyed_hash.copy()
        keyed_hash.update(normalised_id.encode())
        return keyed_hash.hexdigest()

    def encrypt(self, normalised_id: str) -> bytes:
        return self.encrypt_bytes(normalised_id.encode())

    def decrypt(self, token: bytes) -> str:
        return self.decrypt_bytes(token).decode()

    def encrypt_bytes(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return _KEY_VERSION + nonce + self._aead.encrypt(nonce, plaintext, _KEY_VERSION)

    def decrypt_bytes(self, token: bytes) -> bytes:
        version, nonce, ciphertext = token[:1], token[1 : 1 + NONCE_BYTES], token[1 + NONCE_BYTES :]
        return self._aead.decrypt(nonce, ciphertext, version)

    @staticmethod
    def mask(normalised_id: str) -> str:
        return mask(normalised_id)
