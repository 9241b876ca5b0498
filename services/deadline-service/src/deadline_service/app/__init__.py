"""Application layer of the deadline service."""
