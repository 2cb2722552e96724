"""Certificate templates, issuing, PDF rendering and verification.

The models arrive with the issue that builds this app.
"""
