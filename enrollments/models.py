"""Enrollments, lesson progress, completion, analytics and roster.

The models arrive with the issue that builds this app.
"""
