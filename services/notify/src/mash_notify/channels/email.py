"""Email over SMTP with aiosmtplib. The Message-ID is the notification id, so a receiving mail system
can recognise the rare repeat that follows a crash between the server's acceptance and our record."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from mash_notify.settings import NotifySettings


class EmailChannel:
    """Sends one plain-text email per message."""

    def __init__(self, settings: NotifySettings) -> None:
        self._settings = settings

    async def send(self, *, notification_id: str, to: str, subject: str, body: str) -> None:
        """Deliver or raise (aiosmtplib errors, timeouts) so the caller can schedule a retry."""
        message = EmailMessage()
        message["From"] = self._settings.smtp_sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = f"<{notification_id}@mash-hub>"
        message.set_content(body)
        await aiosmtplib.send(
            message,
            hostname=self._settings.smtp_host,
            port=self._settings.smtp_port,
            username=self._settings.smtp_username,
            password=self._settings.smtp_password,
            start_tls=self._settings.smtp_use_tls,
            timeout=self._settings.send_timeout_seconds,
        )
