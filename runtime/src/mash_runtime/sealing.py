"""Encryption at rest for what the runtime stores on a service's behalf (outbox entries).

An outbox entry may carry sealed agency items on their way to another hub service; it sits in the
store until the relay publishes it, so it is encrypted there with the hub's sealing keys (Fernet,
newest key first, older keys still open what they sealed).
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from mash_runtime.settings import HubSettings


class SealBroken(Exception):
    """A stored value could not be opened with any configured key (wrong or rotated-out key)."""


class AtRestCipher:
    """Seals and opens text with the hub's sealing keys."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("sealing_keys: at least one key is required")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def from_settings(cls, settings: HubSettings) -> AtRestCipher:
        """The cipher for the configured keys."""
        return cls(settings.sealing_key_list())

    def seal(self, text: str) -> str:
        """Encrypt `text` with the newest key."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        """Decrypt a token sealed with any configured key; SealBroken (without content) otherwise."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SealBroken("a stored value could not be opened with the configured sealing keys") from None
