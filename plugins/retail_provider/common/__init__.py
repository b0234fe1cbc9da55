"""Pieces shared by both vendors' hooks: errors, retries, time handling."""
