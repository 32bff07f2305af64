"""The lawful basis the hub records on every contact: a hub's configuration, the public-task default packaged.

Why configuration: the basis is the data protection officer's decision for the hub (a hub run under a
different statutory arrangement names its own), and each contact carries the basis in force when it was
received, so the record says what the hub relied on at the time.
"""

from __future__ import annotations

from pathlib import Path

from mash_runtime.config_files import load_config
from mash_schemas.governance import LawfulBasis

from mash_intake.domain.rulebook import packaged_rule_table


def load_lawful_basis(path: Path | None = None) -> LawfulBasis:
    """The basis from `path`, or the packaged default (Art. 6(1)(e), Art. 9(2)(g), DPA 2018 Sch. 1 para 18)."""
    return load_config(path or packaged_rule_table("lawful_basis.yaml"), LawfulBasis, what="lawful basis")
