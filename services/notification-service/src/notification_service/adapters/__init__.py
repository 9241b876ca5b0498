"""Where the notification service touches the world: its tables and projections."""
