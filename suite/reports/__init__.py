"""Reports: ``model.py`` turns runs into one ``Report``; the views render it (terminal, markdown, JSON,
LaTeX, HTML; the dashboard reads the same model). ``style.py`` says how each verdict looks everywhere."""

FORMATS = ("md", "json", "latex", "html")
