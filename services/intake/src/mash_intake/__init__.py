"""The hub's front door: contacts from referrers over HTTP and the police notification feed."""
