"""Renderers: they read a Report and return text; nothing here computes a figure."""
