"""loading of the retail provider."""
