"""The withdrawal function's activities: start the withdrawn lines' returns, acknowledge."""
