"""Intake's pure rules: the contact form, triage, Level of Needs rating, matching and linking (no I/O)."""
