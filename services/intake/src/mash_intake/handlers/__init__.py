"""Intake's entry points: HTTP routes for referrers and Kafka subscribers for the police feed."""
