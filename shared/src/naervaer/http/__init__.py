"""HTTP basics every service shares: problem details, health, metrics, request context."""
