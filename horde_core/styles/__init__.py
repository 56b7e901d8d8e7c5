"""Storage of styles and style collections (see models/styles.py); the rules live in service/styles.py."""
