"""Condition waits for tests (the same helper the demo uses)."""

from demo.waiting import eventually

__all__ = ["eventually"]
