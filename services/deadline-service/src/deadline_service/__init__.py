"""Nærvær deadline-service."""
