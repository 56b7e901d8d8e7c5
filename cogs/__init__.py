"""Feature packages of the Discord bot, one per feature; cogs never import each other."""
