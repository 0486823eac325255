"""Lava processes of the backend and their process models (this folder imports Lava).

Lava finds a process's models by importing every module in the process's folder, so only
modules that import cleanly with Lava live here.
"""
