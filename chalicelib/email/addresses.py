"""The one form an email address is stored, compared, counted and made unique in."""


def normalize_email(email: str) -> str:
    return email.strip().lower()
