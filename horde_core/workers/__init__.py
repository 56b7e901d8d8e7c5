"""Workers: registration on first pop, check-ins, their public records."""
