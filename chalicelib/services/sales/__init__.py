"""Sales: events and their ticket types, resellers' allocations, the inventory they share,
orders and bookings, card payments and refunds, sold tickets and their buyers."""
