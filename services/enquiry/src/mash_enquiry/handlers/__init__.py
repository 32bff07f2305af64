"""The enquiry service's entry points: Kafka subscribers and the desk's HTTP view."""
