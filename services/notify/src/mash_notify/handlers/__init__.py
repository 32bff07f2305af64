"""Notify's entry points: the decision subscriber and the delivery log's HTTP routes."""
