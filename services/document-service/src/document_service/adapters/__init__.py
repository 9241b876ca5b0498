"""Where the document service touches the world: its tables and projections."""
