"""models of the retail provider."""
