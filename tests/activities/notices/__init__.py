"""Email, end to end: the SMTP sink, the notices, and sending them from an activity."""
