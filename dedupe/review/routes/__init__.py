"""Routers of the review app: sign-in, queue, pages, admin, JSON API."""
