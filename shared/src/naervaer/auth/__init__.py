"""Authentication (bearer JWTs) and authorisation (one case-access policy) for every service.

The submodules stay import-light on purpose: ``naervaer.auth.policy`` and
``naervaer.auth.principal`` are pure and safe for domain-adjacent code, while
``naervaer.auth.fastapi`` pulls in the web framework only where a route needs it.
"""

from naervaer.auth.principal import Principal, Role

__all__ = ["Principal", "Role"]
