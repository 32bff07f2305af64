"""The Delivery aggregate's rules (mash_notify.domain.delivery), without a store: due, claimed, sent, retried
after the back-off, failed when no attempt is left, re-sent only when failed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from mash_notify.domain.delivery import Delivery, DeliveryNotFailedError
from mash_notify.domain.messages import messages_for
from mash_notify.domain.retry_policy import RetryPolicy

from tests.unit.notify.notify_builders import DECIDED_AT, RECIPIENTS, decision, decision_made

pytestmark = pytest.mark.unit

POLICY = RetryPolicy(first_delay=timedelta(seconds=30), max_attempts=2)
LEASE = timedelta(seconds=60)


def delivery() -> Delivery:
    message = messages_for(decision_made(decision()), RECIPIENTS)[0]
    return Delivery.queued(message, DECIDED_AT)


def never() -> float:
    return 0.0


def test_a_queued_delivery_is_due_at_once_and_a_claim_holds_until_its_lease_runs_out() -> None:
    queued = delivery()
    assert queued.is_due(DECIDED_AT)

    queued.take_claim("notify-a", "token-1", DECIDED_AT + LEASE)

    assert queued.held_by("token-1") and not queued.held_by("token-2")
    assert not queued.is_due(DECIDED_AT + LEASE - timedelta(seconds=1))
    assert queued.is_due(DECIDED_AT + LEASE)  # its claimant died: another may send it


def test_a_failed_send_is_queued_after_the_back_off_then_given_up_when_no_attempt_is_left() -> None:
    sending = delivery()
    sending.take_claim("notify-a", "t", DECIDED_AT + LEASE)

    assert sending.record_failure("SMTPServerDisconnected", DECIDED_AT, POLICY, never) is None
    assert (sending.status, sending.attempts, sending.claim) == ("queued", 1, None)
    assert sending.next_attempt_at == DECIDED_AT + timedelta(seconds=30)
    assert not sending.is_due(DECIDED_AT + timedelta(seconds=29))

    sending.take_claim("notify-a", "t2", DECIDED_AT + LEASE)
    failed = sending.record_failure("SMTPServerDisconnected", DECIDED_AT, POLICY, never)
    assert failed is not None and failed.payload.attempts == 2
    assert sending.status == "failed"
    assert [line.status for line in sending.log] == ["queued", "retry_scheduled", "failed"]


def test_a_sent_delivery_cannot_be_re_sent_and_a_failed_one_goes_again_under_a_new_event_id() -> None:
    sent = delivery()
    sent.take_claim("notify-a", "t", DECIDED_AT + LEASE)
    first = sent.record_sent(DECIDED_AT)
    with pytest.raises(DeliveryNotFailedError, match="is sent, not failed"):
        sent.resend("asked again", DECIDED_AT)

    failed = delivery()
    for _ in range(POLICY.max_attempts):
        failed.take_claim("notify-a", "t", DECIDED_AT + LEASE)
        failed.record_failure("refused", DECIDED_AT, POLICY, never)
    failed.resend("the receiver is back", DECIDED_AT)
    assert (failed.status, failed.attempts, failed.resends) == ("queued", 0, 1)
    failed.take_claim("notify-a", "t", DECIDED_AT + LEASE)
    again = failed.record_sent(DECIDED_AT)
    assert again.event_id != first.event_id
