"""The door: scanners and check-ins (each ticket gets in once)."""
