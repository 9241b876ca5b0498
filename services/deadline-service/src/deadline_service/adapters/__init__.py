"""Where the deadline service touches the world: its tables and projections."""
