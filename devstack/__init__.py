"""The embedded default stack on one machine: Temporal dev server, worker, carrier sandbox,
SMTP sink — started, watched and stopped together."""
