"""Reports: plans and findings as tables, JSON, CSV, Markdown and HTML."""
