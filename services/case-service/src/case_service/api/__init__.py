"""HTTP edge of the case service: request schemas, routes, problem mapping."""
