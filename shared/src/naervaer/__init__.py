"""Nærvær common library: the event platform every service stands on."""
