"""Communities the core serves (a Discord guild is one): their settings and the change log."""
