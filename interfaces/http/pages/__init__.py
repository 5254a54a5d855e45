"""Server-rendered pages for contacts: Jinja2 templates, one inline stylesheet, no script, a strict CSP."""
