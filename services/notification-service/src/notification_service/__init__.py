"""Nærvær notification-service."""
