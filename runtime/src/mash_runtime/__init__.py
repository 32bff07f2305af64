"""Shared plumbing for the hub's services: settings, broker, store with outbox/inbox, telemetry, logs.

Kept small on purpose: business rules live in each service's `domain` package, never here.
"""
