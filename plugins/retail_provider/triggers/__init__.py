"""triggers of the retail provider."""
