"""Encryption at rest: the hub's one sealing module, for what any service stores sealed.

The runtime seals outbox entries (an entry may carry sealed agency items on their way to another hub
service and sits in the store until the relay publishes it); the decision service seals whole case
files and the enquiry service each sensitive item. All use the hub's sealing keys: Fernet, newest key
first, older keys still open what they sealed. To rotate keys, put the new key first, re-seal stored
tokens with `rotate`, then drop the old key. No message here ever shows a key, a token or content.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from mash_runtime.settings import HubSettings


class SealBroken(Exception):
    """A stored value could not be opened with any configured key (wrong or rotated-out key, or altered)."""


class SealKeysInvalid(ValueError):
    """The sealing keys are missing or malformed; the message says which key, never what it holds."""


class AtRestCipher:
    """Seals and opens text with the hub's sealing keys (first = current)."""

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        # A lone string is a sequence of characters: refused, so a single key is not read as 44 bad keys.
        if isinstance(keys, str | bytes) or not keys:
            raise SealKeysInvalid("sealing_keys: at least one key is required, given as a list (newest first)")
        fernets: list[Fernet] = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                raise SealKeysInvalid(
                    f"sealing key {position} of {len(keys)} is not a Fernet key (32 url-safe base64 bytes)"
                ) from None
        self._fernet = MultiFernet(fernets)

    @classmethod
    def from_settings(cls, settings: HubSettings) -> AtRestCipher:
        """The cipher for the configured keys."""
        return cls(settings.sealing_key_list())

    @staticmethod
    def generate_key() -> str:
        """A fresh random key, for setting up a hub or rotating."""
        return Fernet.generate_key().decode("ascii")

    def seal(self, text: str) -> str:
        """Encrypt `text` with the newest key."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        """Decrypt a token sealed with any configured key; SealBroken (without content) otherwise."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            raise SealBroken("a stored value could not be opened with the configured sealing keys") from None

    def rotate(self, token: str) -> str:
        """`token` re-sealed with the newest key (its content and the seal's time are kept)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise SealBroken("a stored value could not be opened with the configured sealing keys") from None
