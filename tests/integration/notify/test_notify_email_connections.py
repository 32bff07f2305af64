"""Notify's email channel keeps its SMTP connections between messages, on a real SMTP server (aiosmtpd).

A burst of messages goes over the connections the first messages opened, no more of them than send at once;
a connection the server has hung up on is never used for a message (it is checked after being idle, and a new
one opened); and each message arrives once, under its notification id as Message-ID.
"""

from __future__ import annotations

import asyncio

from mash_notify.channels.email import CHECK_AFTER_IDLE, KEEPALIVE_SECONDS, EmailChannel
from mash_notify.settings import NotifySettings

from demo.postbox import Postbox


class _Monotonic:
    """A clock the test moves, for how long a kept connection has been idle."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _channel(postbox: Postbox, clock: _Monotonic, concurrency: int = 3) -> EmailChannel:
    settings = NotifySettings(smtp_host="127.0.0.1", smtp_port=postbox.smtp_port, send_concurrency=concurrency)
    return EmailChannel(settings, clock)


async def _send(channel: EmailChannel, n: int) -> None:
    await channel.send(notification_id=f"n-{n}", to=f"worker{n}@example.org", subject=f"Subject {n}", body=f"Body {n}")


async def test_messages_in_a_row_go_over_one_connection_and_a_burst_over_no_more_than_send_at_once(
    postbox: Postbox,
) -> None:
    clock = _Monotonic()
    channel = _channel(postbox, clock, concurrency=3)
    try:
        for n in range(4):
            await _send(channel, n)
        assert channel.opened == 1
        assert len({mail.connection for mail in postbox.mail}) == 1

        await asyncio.gather(*(_send(channel, n) for n in range(4, 16)))
    finally:
        await channel.close()

    assert sorted(postbox.distinct_mail()) == sorted(f"<n-{n}@mash-hub>" for n in range(16))
    assert len(postbox.mail) == 16, "each message arrives once"
    assert channel.opened <= 1 + 12, "a connection per message in the burst at most"
    assert len({mail.connection for mail in postbox.mail}) == channel.opened
    mail = postbox.mail_to("worker7@example.org")
    assert [(m.subject, m.body.strip()) for m in mail] == [("Subject 7", "Body 7")]


async def test_a_connection_the_server_hung_up_on_is_not_used_for_a_message(postbox: Postbox) -> None:
    clock = _Monotonic()
    channel = _channel(postbox, clock)
    try:
        await _send(channel, 1)
        first = postbox.mail[0].connection
        postbox.hang_up_smtp()
        clock.now += CHECK_AFTER_IDLE + 1  # idle long enough to be checked before use

        await _send(channel, 2)
        await _send(channel, 3)  # straight after: the new connection is kept and used without a check
    finally:
        await channel.close()

    assert [m.message_id for m in postbox.mail] == ["<n-1@mash-hub>", "<n-2@mash-hub>", "<n-3@mash-hub>"]
    assert postbox.mail[1].connection != first
    assert postbox.mail[2].connection == postbox.mail[1].connection
    assert channel.opened == 2


async def test_a_connection_kept_past_the_keepalive_is_closed_not_used(postbox: Postbox) -> None:
    clock = _Monotonic()
    channel = _channel(postbox, clock)
    try:
        await _send(channel, 1)
        clock.now += KEEPALIVE_SECONDS + 1
        await _send(channel, 2)
    finally:
        await channel.close()
    assert [m.message_id for m in postbox.mail] == ["<n-1@mash-hub>", "<n-2@mash-hub>"]
    assert postbox.mail[0].connection != postbox.mail[1].connection
    assert channel.opened == 2
