"""Test support: real-infrastructure addresses, condition waits, service processes, topic readers."""
