"""catalog of the retail provider."""
