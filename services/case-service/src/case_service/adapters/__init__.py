"""Where the case service touches the world: its tables and the event-store repository."""
