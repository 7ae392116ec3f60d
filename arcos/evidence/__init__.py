"""Evidence: projects, evidence items, their relations, and the live feed of new ones."""
