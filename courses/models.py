"""Categories, courses, modules, lessons, catalog search and caching.

The models arrive with the issue that builds this app.
"""
