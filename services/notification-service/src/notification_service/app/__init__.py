"""Use cases: deciding on messages (in the consumers' transactions) and delivering them."""
