"""Liquid checks: syntax errors where they are, variables no contact provides, filters and tags the renderer lacks.

The checks parse with a plain Liquid environment: the renderer's sandbox (``interfaces.rendering``) has the
standard tags and filters and only bounds rendering, so what parses here parses there. Variables are found
by python-liquid's static analysis, which knows scope: a name a template assigns or loops over is not
taken for a contact field.

An unknown variable is an error when rendering it fails for every contact: printed, looped over or passed
to a filter other than a leading ``default``. It is a warning where the renderer lets a missing value pass
(``{{ x | default: '' }}``, a condition, ``case``/``when``, ``assign``): the send works, but the value is
always missing, which is most likely a typo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from liquid import BoundTemplate, Environment
from liquid.builtin.expressions import BooleanExpression, FilteredExpression, Path
from liquid.builtin.tags.assign_tag import AssignNode
from liquid.builtin.tags.case_tag import CaseNode, MultiExpressionBlockNode
from liquid.context import RenderContext
from liquid.exceptions import LiquidError
from liquid.token import TOKEN_EXPRESSION, TOKEN_OUTPUT, TOKEN_TAG, Token

from domain.campaign_workflow import Problem
from interfaces.lint.parts import ERROR, WARNING, Part, line_column, problem

AttributeExists = Callable[[str], bool]

_ENV = Environment()
ROOTS = frozenset({"contact", "preferences_url", "unsubscribe_url"})
CONTACT_FIELDS = frozenset({"email", "attributes", "timezone", "locale"})
# Liquid's own properties of a mapping, not attribute names.
MAPPING_PROPERTIES = frozenset({"size", "first", "last"})
# The renderer has no template loader: a partial can never be found.
UNSUPPORTED_TAGS = frozenset({"include", "render"})
# Tags that only parse inside a parent: the wrapper that lets a probe parse them alone.
_PARENTS = {"elsif": ("{% if true %}", "{% endif %}"), "else": ("{% if true %}", "{% endif %}"),
            "when": ("{% case 1 %}", "{% endcase %}")}  # fmt: skip


def liquid_problems(part: Part, attribute_exists: AttributeExists) -> list[Problem]:
    """Syntax errors, or else unsupported tags, unknown filters and unknown variables in ``part``."""
    try:
        template = _ENV.from_string(part.source)
        analysis = template.analyze(include_partials=False)
        guarded = _guarded(template)
    except LiquidError as exc:
        return [_syntax_problem(part, exc)]
    except RecursionError:
        return [problem("liquid_syntax", f"{part.field}: blocks are nested too deeply", ERROR, part)]
    found = [
        problem("unsupported_tag", f"{part.field}: the {name} tag is not supported (templates have no partials)",
                ERROR, part, line_column(part.source, spans[0].index))
        for name, spans in analysis.tags.items() if name in UNSUPPORTED_TAGS
    ]  # fmt: skip
    found += [
        problem("unknown_filter", f"{part.field}: there is no filter named {name!r}", ERROR, part,
                line_column(part.source, spans[0].index))
        for name, spans in analysis.filters.items() if name not in _ENV.filters
    ]  # fmt: skip
    uses = [(v.segments, v.span.index) for vs in analysis.globals.values() for v in vs]
    return found + _variable_problems(part, uses, guarded, attribute_exists)


def _variable_problems(
    part: Part, uses: Iterable[tuple[Sequence[Any], int]], guarded: set[int], attribute_exists: AttributeExists
) -> list[Problem]:
    roots = ROOTS | {"content"} if part.layout else ROOTS
    # One problem per unknown name and part, as strict as its strictest use, at that use.
    worst: dict[str, tuple[str, bool, int]] = {}
    for segments, index in sorted(uses, key=lambda u: u[1]):
        unknown = _unknown(segments, roots, attribute_exists)
        if unknown is None:
            continue
        code, name = unknown
        strict = index not in guarded
        if name not in worst or (strict and not worst[name][1]):
            worst[name] = (code, strict, index)
    return [_variable_problem(part, name, code, strict, index) for name, (code, strict, index) in worst.items()]


def _unknown(
    segments: Sequence[Any], roots: frozenset[str], attribute_exists: AttributeExists
) -> tuple[str, str] | None:
    """The code and dotted name of an unknown variable, or None (also when a computed segment hides the name)."""
    names = [s if isinstance(s, str) else None for s in segments[:3]]
    if names[0] is None:
        return None
    if names[0] not in roots:
        return "unknown_variable", names[0]
    field = names[1] if names[0] == "contact" and len(names) > 1 else None
    if field is not None and field not in CONTACT_FIELDS:
        return "unknown_variable", f"contact.{field}"
    attribute = names[2] if field == "attributes" and len(names) > 2 else None
    if attribute is None or attribute in MAPPING_PROPERTIES or attribute_exists(attribute):
        return None
    return "unknown_attribute", f"contact.attributes.{attribute}"


def _variable_problem(part: Part, name: str, code: str, strict: bool, index: int) -> Problem:
    what = "no contact has this attribute" if code == "unknown_attribute" else "templates have no such variable"
    if strict:
        message = f"{part.field}: {name} has no value ({what}); rendering fails unless it gets a default"
    else:
        message = f"{part.field}: {name} is always missing ({what}); only its default or the false branch shows"
    return problem(code, message, ERROR if strict else WARNING, part, line_column(part.source, index))


def _guarded(template: BoundTemplate) -> set[int]:
    """Start indices of the paths the renderer lets go missing (see the module docstring)."""
    context = RenderContext(template)
    found: set[int] = set()

    def visit(node: Any) -> None:
        lenient = isinstance(node, AssignNode | CaseNode | MultiExpressionBlockNode)
        for expression in node.expressions():
            _mark(expression, lenient, found)
        for child in node.children(context, include_partials=False):
            visit(child)

    for node in template.nodes:
        visit(node)
    return found


def _mark(expression: Any, lenient: bool, found: set[int]) -> None:
    lenient = lenient or isinstance(expression, BooleanExpression)
    if isinstance(expression, Path) and lenient:
        found.add(expression.token.start_index)
    if (
        isinstance(expression, FilteredExpression)
        and expression.filters
        and expression.filters[0].name == "default"
        and isinstance(expression.left, Path)
    ):
        found.add(expression.left.token.start_index)
    for child in expression.children():
        _mark(child, lenient, found)


def _syntax_problem(part: Part, exc: LiquidError) -> Problem:
    lines = str(exc).splitlines()
    message = lines[0] if lines and lines[0] else type(exc).__name__
    token = getattr(exc, "token", None)
    index: int | None = None
    if isinstance(token, Token) and token.start_index >= 0 and token.source == part.source:
        index = token.start_index
    else:
        # The parser reports some errors (an expression ending early, a block never closed) with a token of
        # its own making that has no position: find the markup that fails on its own.
        index = _locate(part.source, message)
    at = line_column(part.source, index) if index is not None else None
    return problem("liquid_syntax", f"{part.field}: {message}", ERROR, part, at)


def _locate(source: str, message: str) -> int | None:
    try:
        tokens = list(_ENV.tokenizer()(source))
    except LiquidError as exc:
        token = getattr(exc, "token", None)
        return token.start_index if isinstance(token, Token) and token.start_index >= 0 else None
    if message.startswith("expected tag end"):
        return _unclosed(tokens)
    for i, token in enumerate(tokens):
        expression = tokens[i + 1] if i + 1 < len(tokens) and tokens[i + 1].kind == TOKEN_EXPRESSION else None
        probe = _probe(token, expression)
        if probe is None:
            continue
        try:
            _ENV.from_string(probe)
        except LiquidError:
            return (expression or token).start_index
    return None


def _probe(token: Token, expression: Token | None) -> str | None:
    if token.kind == TOKEN_OUTPUT:
        return token.value
    if token.kind != TOKEN_TAG:
        return None
    markup = f"{{% {token.value} {expression.value if expression else ''} %}}"
    if token.value in _PARENTS:
        opening, closing = _PARENTS[token.value]
        return f"{opening}{markup}{closing}"
    tag = _ENV.tags.get(token.value)
    if tag is None or token.value.startswith("end") or token.value in ("comment", "doc"):
        return None
    return f"{markup}{{% {tag.end} %}}" if tag.block and tag.end else markup


def _unclosed(tokens: list[Token]) -> int | None:
    """Where the innermost block that is never closed opens."""
    stack: list[tuple[str, int]] = []
    for token in tokens:
        if token.kind != TOKEN_TAG:
            continue
        tag = _ENV.tags.get(token.value)
        if tag is not None and tag.block and tag.end:
            stack.append((tag.end, token.start_index))
        elif stack and token.value == stack[-1][0]:
            stack.pop()
    return stack[-1][1] if stack else None
