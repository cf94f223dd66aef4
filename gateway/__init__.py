"""The HTTP door of returnflow: carriers' tracking webhooks today (more doors in issue 5)."""
