"""ESP webhook intake: one provider module per ESP, one route, one registry."""
