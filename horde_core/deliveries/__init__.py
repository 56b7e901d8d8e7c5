"""Deliveries a client owes its members: written with the request, claimed under a lease, deleted once handed over."""
