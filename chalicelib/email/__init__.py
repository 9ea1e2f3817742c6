"""Emails as plain values (messages.py) and the SES sender (sender.py)."""
