"""The desk's entry points: Kafka subscribers and the screeners' and managers' HTTP routes."""
