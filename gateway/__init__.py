"""The gateway: every door into returnflow over HTTP (order events, carriers' tracking webhooks,
people's actions on a return), acknowledged only once Temporal has what it was sent."""
