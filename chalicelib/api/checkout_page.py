"""The checkout page (GET /orders/{id}/pay): plain HTML rendered here, every value escaped, one
small inline script (with a per-response nonce) that drives Stripe.js, and a
Content-Security-Policy that lets the page talk only to this API and to Stripe.

The card never touches this API: Stripe.js tokenises it in the page (`createToken`), the
script posts the token to POST /orders/{id}/pay, and a card asking for 3-D Secure is finished
by Stripe.js (`confirmCardPayment`). Each outcome reloads the page, which the server renders
from the order as it is then: the tickets with their QR codes, the hold's end, or the form.
The same script works with Stripe's own Stripe.js and with the local fake's.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from html import escape
from urllib.parse import urlparse

from chalice import Response

from chalicelib.db.orders import CANCELLED, EXPIRED, REFUNDED, RESERVED, Order
from chalicelib.db.tickets import Ticket
from chalicelib.money import from_minor
from chalicelib.qr_codes import qr_svg
from chalicelib.services.sales.tickets import qr_of
from chalicelib.settings import get_settings

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style nonce="{nonce}">
body{{font-family:system-ui,sans-serif;max-width:32rem;margin:1.5rem auto;padding:0 1rem;
line-height:1.4}}
table{{width:100%;border-collapse:collapse}}td,th{{padding:.4rem 0;text-align:left}}
td.n,th.n{{text-align:right}}tfoot td{{font-weight:bold;border-top:1px solid #999}}
#card{{margin:1rem 0;padding:.6rem;border:1px solid #999;border-radius:.4rem;min-height:1.5rem}}
#card input{{max-width:100%;font-size:1rem;margin:.15rem}}
button{{font-size:1.1rem;padding:.7rem 1.2rem;width:100%}}
#error{{color:#a40000}}#countdown{{font-weight:bold}}
section.ticket svg{{width:12rem;height:auto;display:block}}
</style>
</head>
<body>
<h1>{title}</h1>
<p id="event">{event}</p>
{body}
</body>
</html>
"""

_LINES = """<table><thead><tr><th>Ticket</th><th class="n">Qty</th><th class="n">Price</th></tr>
</thead><tbody>{rows}</tbody>
<tfoot><tr><td colspan="2">Total</td><td class="n" id="total">{total}</td></tr></tfoot></table>"""

_FORM = """<p>Your tickets are held for <span id="countdown" data-expires="{expires}">{left}</span>.
</p>
<form id="pay" data-order="{order_id}" data-key="{key}" data-token="{token}">
<div id="card"></div>
<p id="error" role="alert">{error}</p>
<button id="submit" type="submit">Pay {total}</button>
</form>
<script src="{stripe_js}"></script>
<script nonce="{nonce}">{script}</script>"""

# Reads only values this page rendered (data attributes); writes only textContent.
_SCRIPT = """
(function () {
  var form = document.getElementById('pay');
  var error = document.getElementById('error');
  var submit = document.getElementById('submit');
  var countdown = document.getElementById('countdown');
  var expires = Date.parse(countdown.dataset.expires);
  function tick() {
    var left = Math.max(0, Math.floor((expires - Date.now()) / 1000));
    countdown.textContent = Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0');
    if (left === 0) { location.reload(); return; }
    setTimeout(tick, 1000);
  }
  tick();
  var stripe = Stripe(form.dataset.key);
  var card = stripe.elements().create('card');
  card.mount('#card');
  function fail(message) {
    error.textContent = message || 'The payment did not go through; try again.';
    submit.disabled = false;
  }
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    var made = await stripe.createToken(card);
    if (made.error) { fail(made.error.message); return; }
    var response;
    try {
      response = await fetch('/orders/' + encodeURIComponent(form.dataset.order) + '/pay', {
        method: 'POST',
        headers: {'Content-Type': 'application/json',
                  'Authorization': 'Bearer ' + form.dataset.token},
        body: JSON.stringify({card_token: made.token.id})
      });
    } catch (e) { fail('The connection failed; try again.'); return; }
    var body = await response.json().catch(function () { return {}; });
    if (response.status === 402 || response.status === 502 || response.status === 400) {
      fail(body.error); return;
    }
    if (response.ok && body.next_action === 'authenticate') {
      var done = await stripe.confirmCardPayment(body.client_secret);
      if (done.error) { fail(done.error.message); return; }
      var intent = done.paymentIntent || {};
      if (intent.status === 'requires_payment_method') {
        fail((intent.last_payment_error || {}).message ||
             'The card could not be verified; try again or use another card.');
        return;
      }
    }
    location.reload();
  });
})();
"""


def _csp(nonce: str) -> str:
    """Scripts: ours (by nonce) and Stripe.js; connections: this API and Stripe's; frames:
    Stripe's card fields and 3-D Secure pages. Nothing else loads, nothing embeds this page."""
    settings = get_settings()
    stripe_js = _origin(settings.stripe_js_url)
    stripe_api = _origin(settings.stripe_api_url)
    frames = [stripe_js]
    if stripe_js == "https://js.stripe.com":
        frames.append("https://hooks.stripe.com")
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}' {stripe_js}; "
        f"style-src 'nonce-{nonce}'; img-src 'self' data:; "
        f"connect-src 'self' {' '.join(sorted({stripe_api, stripe_js}))}; "
        f"frame-src {' '.join(frames)}; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


def _origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}"


def _page(title: str, event: str, body: str, nonce: str, status: int = 200) -> Response:
    return Response(
        body=_PAGE.format(title=escape(title), event=event, body=body, nonce=nonce),
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "Content-Security-Policy": _csp(nonce),
            # The page's URL carries the order's token: never send it on to another site.
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _lines(order: Order) -> str:
    currency = order.currency_code
    rows = "".join(
        f'<tr><td>{escape(line.name)}</td><td class="n">{int(line.quantity)}</td>'
        f'<td class="n">{escape(from_minor(line.paid_unit_minor, currency))}</td></tr>'
        for line in order.items
    )
    return _LINES.format(rows=rows, total=escape(_amount(order.total_minor, currency)))


def _amount(minor: int, currency: str) -> str:
    return f"{from_minor(minor, currency)} {currency}"


def _left(expires_at: datetime, now: datetime) -> str:
    seconds = max(0, int((expires_at - now).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


def checkout_page(
    *, order: Order, tickets: list[Ticket], event_title: str, token: str, now: datetime
) -> Response:
    """The page for the order as it is now."""
    nonce = secrets.token_urlsafe(16)
    event = escape(event_title)
    if order.status == RESERVED:
        settings = get_settings()
        form = _FORM.format(
            expires=escape(order.expires_at.isoformat()), left=_left(order.expires_at, now),
            order_id=escape(order.id), key=escape(settings.stripe_publishable_key or ""),
            token=escape(token), error="", total=escape(_amount(order.total_minor,
            order.currency_code)), stripe_js=escape(settings.stripe_js_url), nonce=nonce,
            script=_SCRIPT,
        )  # fmt: skip
        return _page("Checkout", event, _lines(order) + form, nonce)
    if order.status in (EXPIRED, CANCELLED):
        what = "expired" if order.status == EXPIRED else "was cancelled"
        message = (
            f'<p id="ended">This order {what}: its tickets went back on sale and nothing was '
            "charged. Place a new order to buy tickets.</p>"
        )
        return _page("Order ended", event, _lines(order) + message, nonce)
    if order.status == REFUNDED and not tickets:
        message = '<p id="ended">This order was refunded in full.</p>'
        return _page("Order refunded", event, _lines(order) + message, nonce)
    sections = "".join(
        f'<section class="ticket"><h2>{escape(t.ticket_type_name or "Ticket")}</h2>'
        f'<p><b class="code">{escape(t.code)}</b>'
        f"{' &middot; cancelled' if t.is_cancelled else ''}</p>"
        f"{'' if t.is_cancelled else qr_svg(qr_of(t))}</section>"
        for t in tickets
    )
    paid = (
        '<p id="paid">Paid. Show each ticket\'s QR code at the entrance; each gets in once. '
        "They are in your email too.</p>"
    )
    return _page("Your tickets", event, _lines(order) + paid + sections, nonce)
