"""Nærvær case-service."""
