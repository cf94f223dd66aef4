"""What every returnflow process shares: settings, the Temporal connection, logging."""
