"""Insight: the hub's figures, built from the event stream into read models of its own (no free text)."""
