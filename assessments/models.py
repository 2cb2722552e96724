"""Quizzes, attempts, assignments, submissions and the gradebook.

The models arrive with the issue that builds this app.
"""
