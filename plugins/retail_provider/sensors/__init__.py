"""sensors of the retail provider."""
