"""The whole-hub tests' one service configuration: a hub tuned to carry scenarios in seconds, not working days.

The end-to-end, browser, leak-hunt and replicas tests each start a whole hub; they differ only in how long the
agencies have to answer (their enquiry window) and how often enquiry sweeps for answers past it. Everything else
(notify sending to the test's postbox and sweeping its due deliveries often, intake knowing the demo's register) is
the same, and is written once here.
"""

from __future__ import annotations

from pathlib import Path

from demo.postbox import Postbox
from demo.scenarios import write_timescales

DEMO_REGISTER = Path(__file__).resolve().parents[2] / "demo" / "register.csv"


def fast_service_env(workdir: Path, postbox: Postbox, *, enquiry_window_seconds: float,
                     enquiry_sweep_seconds: float = 0.5) -> dict[str, dict[str, str]]:
    """Each service's environment: decision's timescales with the given enquiry window, enquiry's sweep, notify
    sending to `postbox` (recipients written into `workdir`), intake's register of known people."""
    return {
        "decision": {"MASH_DECISION_TIMESCALES_FILE": str(write_timescales(workdir / "timescales.yaml",
                                                                           enquiry_window_seconds))},
        "notify": {**postbox.notify_env(postbox.write_recipients(workdir / "recipients.yaml")),
                   "MASH_NOTIFY_DELIVERY_SWEEP_SECONDS": "0.2"},
        "enquiry": {"MASH_ENQUIRY_SWEEP_SECONDS": str(enquiry_sweep_seconds)},
        "intake": {"MASH_INTAKE_REGISTER_FILE": str(DEMO_REGISTER)},
    }
