"""Ways a rendered message leaves Tidings: SMTP, ESP HTTP APIs, and the built-in capture outbox."""
