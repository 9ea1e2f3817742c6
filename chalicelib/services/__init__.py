"""The rules of the domain, knowing nothing of HTTP: functions that take the acting user."""
