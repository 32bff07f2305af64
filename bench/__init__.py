"""`make bench`: throughput, latency and memory of the whole hub on the real stack."""
