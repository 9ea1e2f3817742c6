"""Prices: decimal strings at the edge, integer minor units in storage, never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# The largest price accepted, in major units, whatever the currency.
MAX_PRICE = Decimal("1000000000")


def minor_units(currency_code: str) -> int:
    """Decimal places ISO 4217 gives the currency (JPY 0, GBP 2, BHD 3).

    Raises ValueError for codes that are not ISO 4217 currencies or have no minor unit
    (funds, precious metals, XXX).
    """
    if not (isinstance(currency_code, str) and currency_code.isalpha() and currency_code.isupper()):
        raise ValueError("must be an ISO 4217 code such as GBP")
    import iso4217  # its table loads on the first price, not at a cold start (~8 ms)

    try:
        exponent = iso4217.Currency(currency_code).exponent
    except ValueError:
        raise ValueError(f"{currency_code} is not an ISO 4217 currency") from None
    if exponent is None:
        raise ValueError(f"{currency_code} has no minor unit and cannot price tickets")
    return exponent


def to_minor(price: str, currency_code: str) -> int:
    """'63.72' GBP -> 6372. Raises ValueError for anything not a plain non-negative decimal
    with at most the currency's decimal places."""
    places = minor_units(currency_code)
    if not isinstance(price, str) or not price or price.strip() != price:
        raise ValueError('must be a decimal string such as "50" or "63.72"')
    try:
        amount = Decimal(price)
    except InvalidOperation:
        raise ValueError('must be a decimal string such as "50" or "63.72"') from None
    if not amount.is_finite() or "e" in price.lower():
        raise ValueError("must be a plain decimal number")
    if amount < 0:
        raise ValueError("must not be negative")
    if amount > MAX_PRICE:
        raise ValueError(f"must be at most {MAX_PRICE}")
    # Trailing zeros are fine ("1.500" GBP is 1.50); significant digits past the minor unit not.
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"{currency_code} allows at most {places} decimal places")
    return int(amount.scaleb(places))


def from_minor(minor: int, currency_code: str) -> str:
    """6372 GBP -> '63.72'; 5000 JPY -> '5000'."""
    places = minor_units(currency_code)
    return str(Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places)))
