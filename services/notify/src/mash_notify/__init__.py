"""Notify: the hub's hand-off to receiving services, feedback to referrers and outcome notices to agencies."""
