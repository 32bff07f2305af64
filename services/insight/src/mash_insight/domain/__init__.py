"""The rules of the figures: pure, no I/O."""
