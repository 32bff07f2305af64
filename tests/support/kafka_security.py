"""The one place a test may step aside for a broker without authentication, and only outside CI.

`MASH_KAFKA_INSECURE=1 make up` is a developer's switch: that broker has no principals or ACLs to test, so the
ACL and region tests skip there. CI always runs the secured broker (.ci/run unsets the switch), and under CI a
missing credentials file fails those tests instead of skipping them, so nothing hides the real-broker proofs.
"""

from __future__ import annotations

import os

import pytest


def skip_on_a_developers_insecure_broker() -> None:
    """Skip when the stack was started with MASH_KAFKA_INSECURE=1 on a developer's machine; never under CI."""
    if os.environ.get("MASH_KAFKA_INSECURE") == "1" and not os.environ.get("CI"):
        pytest.skip("the broker runs without authentication (MASH_KAFKA_INSECURE=1, a development switch)",
                    allow_module_level=True)
