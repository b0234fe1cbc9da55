"""operators of the retail provider."""
