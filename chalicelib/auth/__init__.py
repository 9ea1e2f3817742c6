"""Authentication: password hashing, tokens and the authorizer."""
