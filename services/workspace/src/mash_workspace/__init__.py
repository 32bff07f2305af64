"""The hub's workspace: GOV.UK-style pages for hub staff, referrers and partner agencies.

A backend for the frontend: it keeps no case data of its own and calls intake's, decision's,
enquiry's and notify's HTTP APIs with the signed-in person's token, so those services stay the
source of truth and audit every read.
"""
