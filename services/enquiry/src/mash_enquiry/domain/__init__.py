"""The enquiry's rules, free of I/O: agencies, fan-out, the enquiry record, reminders and sensitivity labels."""
