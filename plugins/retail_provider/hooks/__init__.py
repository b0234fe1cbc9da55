"""hooks of the retail provider."""
