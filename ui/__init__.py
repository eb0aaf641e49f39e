"""Streamlit helpers shared by the pages (project picker, error guard, cached loads).

``core/`` never imports streamlit; this package is the thin layer between the
pages and core that several pages need. Session-state keys are prefixed.
"""
