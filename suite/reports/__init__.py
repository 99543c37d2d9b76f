"""Renderers behind ``suite.report``: markdown, LaTeX and self-contained HTML, plus number formatting."""
