"""Sealed for one reader: sensitive items travelling between hub services, encrypted for the service that needs them.

The enquiry service passes agencies' sensitive items to the decision service over Kafka. A topic is read
by more than its intended consumer (other services' operators, anyone holding a topic-read ACL), so each
item travels encrypted for the decision service alone (envelope encryption):

- a fresh AES-256-GCM data key per item encrypts the item's JSON;
- the data key is wrapped with the reader's RSA-OAEP (SHA-256) public key;
- the additional authenticated data binds the ciphertext to the referral, the agency and the item id, so
  an item cannot be moved onto another case or passed off as another agency's;
- `key_id` is the public key's SHA-256 fingerprint, so the reader can hold several private keys (newest
  first) and open items sealed for any of them while keys are rotated.

The writer holds only public keys (`TransitSealer`); the reader holds its private keys (`TransitOpener`).
A development key pair is built in (like the development sealing key), and refused in production.
Make a new pair with `python -m mash_runtime.transit`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from mash_schemas.agency import InformationItem
from mash_schemas.enquiry import TRANSIT_ALGORITHM, EncryptedItem
from pydantic import ValidationError

# Development-only key pair (base64 DER): refused in production, like the development sealing key.
DEVELOPMENT_TRANSIT_PRIVATE_KEY = (
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCrmJpkmty+u4c+pkPe5fBGdavLfeUWdSx8JjTU9aeOKSNqBDjJ"
    "BbtCoSJRnyAE3SWgPanwOkFKA2aRWsrRonJQ+qoVu3JL/+cT8iHHPtrIcfD52uzGZfOeWKjiEQt6IenNwKWpiQBbffLwHzrbud3F"
    "co9oiakQkRFiac+KHnhThfE8GpopXI7VZXPbyhQ17b7VXsuop8+0DMGINKbPQ0zIz08QCoN+QxDna3jhMvDZL0bAUxFmeFc/rW0M"
    "zPWsRLAWzckCVph43ZEff43+ArHjAHzmbo3tTxiQNlLMu3S4t6OyuHWQTwx9s3SHggAwXGhGwHge7/XmdBLngOVZ/KNNAgMBAAEC"
    "ggEAFrrDELp2rQkYFBNgACGDH0Is/GpzsvLYbqV88AyOIkWOvFdM0kvhDyVa72bdjedhOYWRghGlXlFu/6gAH56d994MM469yBVg"
    "nYLAOK05u71kBySZonoUuA/UZwWM+KOPXcK77uYH1xaq3GW2nS5UkvfmyRka/OfKXrfXVttMYvuucKzwELsJSaTLR5ldmsEiabbp"
    "0fn2CnrodpjKuOWhhRMmu8PloHJ5owDMO69zuNsXEurTZL4HGuVVJvQuMG93jbYMn4py0uGfNIrtHCPRvpHzTtYoXDP5RDzKlV9m"
    "UQZniU2Jo0dk3OzMimHofOtQjz5qG58iXoUK+yfxLT+YYQKBgQDbPKyYOBL1oqM4Dy+PaFzZIFtjoQSk09hVgoqRq6pvFdjSsvyj"
    "5jJBE6OV4Qug1cmmtli96IzWJnmP/0MSLhBj8I6UjXUvVS1zJcJWDqLV8AVk1LCUKFcs3vDu5fPk5jwFH5KnFkZs1k5x38mKMn+L"
    "wlJdiCMMiTpx++TgsgNwNQKBgQDIXtFWJTdBW6EHzBzbcK5hzd0N0vmpBQn1XsZTBIEsam2KlHnpfg2Bql1N09cABzTpBpboQCf2"
    "cK+DKOy73sN/7ZRU79InXh+V578dt35a3H08UYO6TAV42ndo+AgQnuJYTzsSA3RnfwDwKObSkJv4T0LNePMhZ59xFQtzLYn5uQKB"
    "gArRiarRSY45glhn1276NWq5gAkAjxwbIBfII1Jg6D4nE9YB4xmraFtxvqbMvignpJXHdcWZTinbKDCE5ihlgYWM/1wxRtEZIO8H"
    "s/lPK5XnDD0Xiccl3ndmYPlI+6oV+mw+TJxWKw9/28sewfFB4K1i33GiICikNPAfAAJehnDpAoGADi4Xpn8PwAJaDRE24ZjB3o4R"
    "HM9Xd8yxfbntUya4dYo6oloLnqibEBgcbkuVpZzc87jRqTIRIfGrmh6lUk5bi4wmuTQXrU2N8q/p6JJ50LhV7JTgO6jxojHjzXvw"
    "Jiz4W8OPrKCt9j0YteZPH4u4XgRN9/idTDnnILuaidYpM5ECgYB0beQTtrVXfSShNnFSxVCg60yzHC4hWTJpYqF64HNzw89i4ppl"
    "gFXJ+bsfCjIZyr0/A7ovMUZfRd7VJV3DlMIGA3+iwyBg+hqNqpB8AKNoyBUrREfVKb1gzeVoALcExQOePnQSUWM62WGn6TuWhKsA"
    "tWl6flGuN06ZTSYYabPaFQ=="
)
DEVELOPMENT_TRANSIT_PUBLIC_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAq5iaZJrcvruHPqZD3uXwRnWry33lFnUsfCY01PWnjikjagQ4yQW7QqEi"
    "UZ8gBN0loD2p8DpBSgNmkVrK0aJyUPqqFbtyS//nE/Ihxz7ayHHw+drsxmXznlio4hELeiHpzcClqYkAW33y8B8627ndxXKPaImp"
    "EJERYmnPih54U4XxPBqaKVyO1WVz28oUNe2+1V7LqKfPtAzBiDSmz0NMyM9PEAqDfkMQ52t44TLw2S9GwFMRZnhXP61tDMz1rESw"
    "Fs3JAlaYeN2RH3+N/gKx4wB85m6N7U8YkDZSzLt0uLejsrh1kE8MfbN0h4IAMFxoRsB4Hu/15nQS54DlWfyjTQIDAQAB"
)
_AAD_PURPOSE = "mash.transit.v1"
_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
MIN_KEY_BITS = 2048


class TransitKeysInvalid(ValueError):
    """A configured transit key is malformed, too small or not RSA (which one is said, never its content)."""


class TransitSealBroken(Exception):
    """An encrypted item could not be opened: no configured key fits, or it was altered or moved."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def split_keys(text: str) -> list[str]:
    """Keys from a setting: comma-separated, each PEM or base64 DER, newest first."""
    return [key.strip() for key in text.split(",") if key.strip()]


def _key_bytes(text: str) -> tuple[bytes, bool]:
    if text.lstrip().startswith("-----BEGIN"):
        return text.encode("ascii"), True
    return base64.b64decode("".join(text.split()), validate=True), False


@lru_cache(maxsize=32)
def load_public_key(text: str, position: int = 1, count: int = 1) -> rsa.RSAPublicKey:
    """An RSA public key from PEM or base64 DER (SubjectPublicKeyInfo)."""
    try:
        data, pem = _key_bytes(text)
        key = serialization.load_pem_public_key(data) if pem else serialization.load_der_public_key(data)
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        raise TransitKeysInvalid(f"transit public key {position} of {count} is not a PEM or base64 DER key") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_KEY_BITS:
        raise TransitKeysInvalid(f"transit public key {position} of {count} is not an RSA key of {MIN_KEY_BITS}+ bits")
    return key


@lru_cache(maxsize=32)
def load_private_key(text: str, position: int = 1, count: int = 1) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM or base64 DER (PKCS#8), unencrypted (keep it in a secret store)."""
    try:
        data, pem = _key_bytes(text)
        key = (serialization.load_pem_private_key(data, password=None) if pem
               else serialization.load_der_private_key(data, password=None))
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        raise TransitKeysInvalid(f"transit private key {position} of {count} is not a PEM or base64 DER key") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_KEY_BITS:
        raise TransitKeysInvalid(f"transit private key {position} of {count} is not an RSA key of {MIN_KEY_BITS}+ bits")
    return key


def key_id(public_key: rsa.RSAPublicKey) -> str:
    """The key's fingerprint: SHA-256 of its DER SubjectPublicKeyInfo, first 16 bytes in hex."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:32]


DEVELOPMENT_TRANSIT_KEY_ID = key_id(load_public_key(DEVELOPMENT_TRANSIT_PUBLIC_KEY))


def public_key_ids(keys: Sequence[str]) -> list[str]:
    """The fingerprints of public keys given as text."""
    return [key_id(load_public_key(key, n, len(keys))) for n, key in enumerate(keys, start=1)]


def private_key_ids(keys: Sequence[str]) -> list[str]:
    """The fingerprints of the public halves of private keys given as text."""
    return [key_id(load_private_key(key, n, len(keys)).public_key()) for n, key in enumerate(keys, start=1)]


def _aad(referral_id: str, agency: str, item_id: str) -> bytes:
    return json.dumps([_AAD_PURPOSE, referral_id, agency, item_id], separators=(",", ":")).encode("utf-8")


class TransitSealer:
    """Seals items for the reader's newest public key (the first given)."""

    def __init__(self, public_keys: Sequence[str]) -> None:
        if isinstance(public_keys, str) or not public_keys:
            raise TransitKeysInvalid("at least one transit public key is required, as a list (first = current)")
        self._key = load_public_key(public_keys[0], 1, len(public_keys))
        self._key_id = key_id(self._key)
        for position, text in enumerate(public_keys[1:], start=2):
            load_public_key(text, position, len(public_keys))  # fail at start-up, not at first use

    @property
    def key_id(self) -> str:
        """The fingerprint of the key items are sealed for."""
        return self._key_id

    def seal(self, referral_id: str, agency: str, item: InformationItem) -> EncryptedItem:
        """`item` encrypted for the reader, bound to this referral and agency."""
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        ciphertext = AESGCM(data_key).encrypt(
            nonce, item.model_dump_json().encode("utf-8"), _aad(referral_id, agency, item.item_id)
        )
        return EncryptedItem(
            agency=agency,
            item_id=item.item_id,
            algorithm=TRANSIT_ALGORITHM,
            key_id=self._key_id,
            wrapped_key=_b64(self._key.encrypt(data_key, _OAEP)),
            nonce=_b64(nonce),
            ciphertext=_b64(ciphertext),
        )


class TransitOpener:
    """Opens items sealed for any of the reader's private keys (newest first; older ones for rotation)."""

    def __init__(self, private_keys: Sequence[str]) -> None:
        if isinstance(private_keys, str) or not private_keys:
            raise TransitKeysInvalid("at least one transit private key is required, as a list (first = current)")
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        for position, text in enumerate(private_keys, start=1):
            key = load_private_key(text, position, len(private_keys))
            self._keys.setdefault(key_id(key.public_key()), key)

    @property
    def key_ids(self) -> list[str]:
        """Fingerprints of the keys this opener holds, newest first."""
        return list(self._keys)

    def open(self, referral_id: str, sealed: EncryptedItem) -> InformationItem:
        """The item inside `sealed`; TransitSealBroken (saying nothing of the content) if it cannot be opened."""
        key = self._keys.get(sealed.key_id)
        if key is None:
            raise TransitSealBroken(f"item {sealed.item_id!r} of {sealed.agency} is sealed for key {sealed.key_id}, "
                                    "which this service does not hold")
        try:
            data_key = key.decrypt(_unb64(sealed.wrapped_key), _OAEP)
            plain = AESGCM(data_key).decrypt(
                _unb64(sealed.nonce), _unb64(sealed.ciphertext), _aad(referral_id, sealed.agency, sealed.item_id)
            )
        except (InvalidTag, ValueError, binascii.Error):
            raise TransitSealBroken(f"item {sealed.item_id!r} of {sealed.agency} could not be opened: altered, "
                                    "or sealed for another referral or agency") from None
        try:
            item = InformationItem.model_validate_json(plain)
        except ValidationError:
            # The validation error would quote the content; it must not reach a log.
            raise TransitSealBroken(f"item {sealed.item_id!r} of {sealed.agency} opened but is not an item") from None
        if item.item_id != sealed.item_id:
            raise TransitSealBroken(f"item {sealed.item_id!r} of {sealed.agency} holds another item")
        return item


def generate_key_pair(bits: int = 3072) -> tuple[str, str]:
    """A new (private, public) pair as base64 DER (PKCS#8, SubjectPublicKeyInfo)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(private_der).decode("ascii"), base64.b64encode(public_der).decode("ascii")


def main() -> int:
    """Print a new key pair as the two settings that carry it (decision's private, enquiry's public)."""
    private, public = generate_key_pair()
    print(f"# key id {key_id(load_public_key(public))}: put the new key first, keep the old ones until drained")
    print(f"MASH_DECISION_TRANSIT_PRIVATE_KEYS={private}")
    print(f"MASH_ENQUIRY_DECISION_PUBLIC_KEYS={public}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
