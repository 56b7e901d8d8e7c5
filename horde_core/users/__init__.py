"""Users, API keys (stored hashed) and external identities."""
