"""Plotly figure builders: UI-free, testable, reused by the HTML reports.

One module per area (``core.charts.profile``, ``core.charts.train`` ...) so that
each page's charts live together; every builder takes plain data (the stored
result dataclasses or frames) and returns a ``plotly.graph_objects.Figure``.
User strings (column names, labels) are passed to plotly as data, which renders
them as text, never as HTML.
"""
