"""The embedded local stack: an AWS emulator and the API on loopback, for `make run` and tests.

Development tooling only; nothing here is deployed.
"""
