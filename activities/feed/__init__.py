"""The event feed's deliveries to its subscribers."""
