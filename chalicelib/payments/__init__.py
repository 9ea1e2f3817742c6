"""Card payments behind one small contract (`base.py`); Stripe is the provider (`stripe_api.py`).

Services ask for an intent, a card payment, a refund, or a verified webhook event, and get our own
types back: nothing outside this package imports the Stripe SDK.
"""
