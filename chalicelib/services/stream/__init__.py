"""The event stream: changes recorded with each write, what each calls for (emails, webhook
deliveries) carried out by the consumer and the side-effects worker, and the audit log."""
