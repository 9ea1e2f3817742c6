import pytest

from chalicelib.money import from_minor, minor_units, to_minor


@pytest.mark.parametrize(
    ("price", "currency", "minor"),
    [
        ("50", "GBP", 5000),
        ("63.72", "GBP", 6372),
        ("0", "EUR", 0),
        ("1.5", "GBP", 150),
        ("1.500", "GBP", 150),
        ("5000", "JPY", 5000),
        ("1.234", "BHD", 1234),
    ],
)
def test_prices_become_integer_minor_units(price, currency, minor):
    assert to_minor(price, currency) == minor


@pytest.mark.parametrize(
    ("minor", "currency", "price"),
    [(6372, "GBP", "63.72"), (5000, "GBP", "50.00"), (5000, "JPY", "5000"), (1, "BHD", "0.001")],
)
def test_minor_units_print_with_the_currency_decimals(minor, currency, price):
    assert from_minor(minor, currency) == price


@pytest.mark.parametrize(
    ("price", "currency"),
    [
        ("1.5", "JPY"),
        ("0.001", "GBP"),
        ("-1", "GBP"),
        ("1e3", "GBP"),
        ("NaN", "GBP"),
        ("Infinity", "GBP"),
        ("abc", "GBP"),
        ("", "GBP"),
        (" 1", "GBP"),
        ("1000000001", "GBP"),
    ],
)
def test_bad_prices_are_refused(price, currency):
    with pytest.raises(ValueError):
        to_minor(price, currency)


@pytest.mark.parametrize("code", ["ZZZ", "XAU", "XXX", "gbp", "GB", 5])
def test_unknown_or_unpriceable_currencies_are_refused(code):
    with pytest.raises(ValueError):
        minor_units(code)


def test_minor_units_follow_iso_4217():
    assert (minor_units("GBP"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)
