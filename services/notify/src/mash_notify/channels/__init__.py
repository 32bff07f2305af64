"""Real delivery channels: email over SMTP, signed webhooks over HTTP(S)."""
