"""Figures written as PNG without pyplot."""
