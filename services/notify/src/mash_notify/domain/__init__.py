"""Notify's pure rules: what may leave the hub after a decision, to whom, in which words, and when to retry."""
