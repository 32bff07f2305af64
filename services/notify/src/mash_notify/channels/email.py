"""Email over SMTP with aiosmtplib, on kept connections. The Message-ID is the notification id, so a receiving
mail system can recognise the rare repeat that follows a crash between the server's acceptance and our record.

A connection, with its greeting, EHLO, STARTTLS and login, used to be opened for every message and closed after
it: about seven round trips of ceremony for the three of the message itself (MAIL, RCPT, DATA), a tenth of
notify's CPU while it handed off a backlog. Connections are now kept between messages, as many as are sending
at once (`send_concurrency`), so a burst of hand-offs goes over the connections the first messages opened.

A kept connection may have been closed by the server meanwhile (servers drop idle clients after a while;
RFC 5321 asks them to wait at least five minutes). One that has been idle longer than `CHECK_AFTER_IDLE` is
asked a NOOP before it is used, and a new one opened if it does not answer, so no message is ever begun on a
connection already gone; one idle longer than `KEEPALIVE_SECONDS` is closed instead. A connection on which
anything fails is closed and the message's delivery fails as before (and is retried on its schedule): after a
failure nobody can say what state the conversation is in.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from email.message import EmailMessage

import aiosmtplib

from mash_notify.settings import NotifySettings

KEEPALIVE_SECONDS = 60.0  # an idle connection is closed after this: well inside servers' idle timeouts
CHECK_AFTER_IDLE = 1.0  # an idle connection is asked a NOOP first after this; a burst's next message is not


class EmailChannel:
    """Sends one plain-text email per message, over connections kept between messages."""

    def __init__(self, settings: NotifySettings, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._monotonic = monotonic
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # kept connections, most recently used last
        self._loop: asyncio.AbstractEventLoop | None = None
        self.opened = 0  # connections opened so far (tests and the benchmark read it)

    async def send(self, *, notification_id: str, to: str, subject: str, body: str) -> None:
        """Deliver or raise (aiosmtplib errors, timeouts) so the caller can schedule a retry."""
        message = EmailMessage()
        message["From"] = self._settings.smtp_sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = f"<{notification_id}@mash-hub>"
        message.set_content(body)
        connection = await self._connection()
        try:
            await connection.send_message(message)
        except BaseException:
            connection.close()  # whatever state the conversation is in, it is not one to go on from
            raise
        self._keep(connection)

    async def close(self) -> None:
        """Say goodbye on every kept connection (at shutdown); a later send opens new ones."""
        idle, self._idle = self._idle, []
        if self._loop is not asyncio.get_running_loop():
            return  # they belong to a loop that is gone
        for connection, _ in idle:
            await _quit(connection)

    async def _connection(self) -> aiosmtplib.SMTP:
        """A kept connection that still answers, or a new one."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a connection belongs to the loop that opened it (a test's next loop)
            self._idle, self._loop = [], loop
        now = self._monotonic()
        while self._idle:
            connection, since = self._idle.pop()
            idle_for = now - since
            if not connection.is_connected or idle_for > KEEPALIVE_SECONDS:
                await _quit(connection)
                continue
            if idle_for > CHECK_AFTER_IDLE:
                try:
                    await connection.noop()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    connection.close()
                    continue
            return connection
        connection = aiosmtplib.SMTP(
            hostname=self._settings.smtp_host,
            port=self._settings.smtp_port,
            username=self._settings.smtp_username,
            password=self._settings.smtp_password,
            start_tls=self._settings.smtp_use_tls,
            timeout=self._settings.send_timeout_seconds,
        )
        await connection.connect()
        self.opened += 1
        return connection

    def _keep(self, connection: aiosmtplib.SMTP) -> None:
        """Keep a connection that just delivered, up to as many as send at once."""
        if len(self._idle) >= self._settings.send_concurrency:
            connection.close()
            return
        self._idle.append((connection, self._monotonic()))


async def _quit(connection: aiosmtplib.SMTP) -> None:
    """End a conversation politely if it is still open; a connection already gone just closes."""
    if connection.is_connected:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            await connection.quit()
            return
    connection.close()
