"""Experimental designs over named factors, and the seed rule of every run (seeds.py)."""
