"""Nærvær document-service."""
