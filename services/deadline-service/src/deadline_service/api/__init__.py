"""HTTP edge of the deadline service."""
