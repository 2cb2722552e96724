"""Orders, coupons, Stripe checkout, webhooks, refunds, reconciliation.

The models arrive with the issue that builds this app.
"""
