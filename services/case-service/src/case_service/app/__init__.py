"""Application layer: commands in, the aggregate decides, the unit of work commits."""
