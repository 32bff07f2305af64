"""Sealing sensitive items at rest: Fernet encryption with a list of keys so keys can be rotated.

The first key seals; every key can open. To rotate, put the new key first and keep the old ones
until `rotate` has re-sealed every stored token, then drop them. No I/O: keys are handed in.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from mash_schemas import InformationItem
from pydantic import ValidationError

from mash_enquiry.domain.exceptions import SealBroken, SealKeysInvalid


class Sealer:
    """Seals and opens sensitive items with the hub's keys (first = current)."""

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if isinstance(keys, str | bytes) or not keys:
            raise SealKeysInvalid("at least one sealing key is required, given as a list (first = current)")
        fernets: list[Fernet] = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                # Say which key is malformed, never what it contains.
                raise SealKeysInvalid(
                    f"sealing key {position} of {len(keys)} is not a Fernet key (32 url-safe base64 bytes)"
                ) from None
        self._keys = MultiFernet(fernets)

    @staticmethod
    def generate_key() -> str:
        """A fresh random key, for setting up a hub or rotating."""
        return Fernet.generate_key().decode("ascii")

    def seal(self, item: InformationItem) -> str:
        """The item encrypted with the current key, as text to store."""
        return self._keys.encrypt(item.model_dump_json().encode("utf-8")).decode("ascii")

    def unseal(self, token: str) -> InformationItem:
        """The item inside `token`; SealBroken if no configured key opens it or it was altered."""
        try:
            plain = self._keys.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise SealBroken("a sealed item could not be opened with the configured keys") from None
        try:
            return InformationItem.model_validate_json(plain)
        except ValidationError:
            # The validation error would quote the content; it must not reach a log.
            raise SealBroken("a sealed item opened but does not hold a valid information item") from None

    def rotate(self, token: str) -> str:
        """`token` re-sealed with the current key (its content and the seal's time are kept)."""
        try:
            return self._keys.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise SealBroken("a sealed item could not be opened with the configured keys") from None
