"""Run the whole hub as real processes: the demo, the end-to-end tests and the benchmark use this."""
