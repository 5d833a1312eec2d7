"""Synthetic arithmetic tasks for the toy training experiments (C2, C7).

Word problems ("Tom has 3 apples and buys 4 more. How many apples?") with worked solutions
in three distinct, detectable formats, mirroring the pretraining mixtures of Zhao et al. 2025
("Echo Chamber", arXiv 2504.07912):
  code    Python-like, as in TinyGSM:            x=3+4\\nprint(x)
          (the answer comes from interpreting the code, as TinyGSM runs its programs —
          here with a tiny AST interpreter that allows only + - * on integers, never eval)
  tagged  tagged code + answer, as in OpenMathInstruct-1:  <code>3+4</code> <ans>7</ans>
  nl      natural language with LaTeX, as in OpenMathInstruct-2:
          So $3+4=7$. The answer is 7.
A prompt is `problem.prompt` (the question and a newline); a document is prompt + solution.

Multi-digit addition with several solution styles, for self-training (C7):
  `addition_problems(n, seed, digits)`, `format_addition(p, style)` for style in
  ADDITION_STYLES, `classify_addition_style(text)`, `extract_addition_answer(text)`,
  `addition_solutions(p)` (the whole known space of correct solutions of one problem).
"""

from __future__ import annotations

import ast
import random
import re
import string
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

FORMATS = ("code", "tagged", "nl")
ALPHABET = string.ascii_letters + string.digits + " \n.,?!$=+-*()<>/_:;'"

_NAMES = ("Tom", "Ann", "Sam", "Mia", "Ben", "Eva", "Max", "Zoe")
_ITEMS = ("apples", "pens", "cards", "coins", "books", "eggs")
_ADD = ("buys {} more", "finds {} more", "gets {} more")
_SUB = ("gives away {}", "loses {}", "eats {}")


@dataclass(frozen=True)
class Problem:
    """A word problem: start value, then one or two additions/subtractions; `answer` is exact."""

    name: str
    item: str
    start: int
    steps: tuple[tuple[str, int], ...]  # ("+", 4), ("-", 2)
    question: str
    answer: int

    @property
    def prompt(self) -> str:
        return self.question + "\n"

    @property
    def expression(self) -> str:
        return str(self.start) + "".join(f"{op}{v}" for op, v in self.steps)


def make_problems(
    n: int, seed: int = 0, max_operand: int = 20, max_steps: int = 2
) -> list[Problem]:
    """`n` random word problems with operands in [1, max_operand] and 1..max_steps operations;
    subtractions never go below zero."""
    rng = random.Random(seed)
    return [_make_problem(rng, max_operand, max_steps) for _ in range(n)]


def _make_problem(rng: random.Random, max_operand: int, max_steps: int) -> Problem:
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    value = start = rng.randint(1, max_operand)
    steps: list[tuple[str, int]] = []
    clauses = []
    for _ in range(rng.randint(1, max_steps)):
        if value > 1 and rng.random() < 0.5:
            v = rng.randint(1, min(value, max_operand))
            steps.append(("-", v))
            clauses.append(rng.choice(_SUB).format(v))
            value -= v
        else:
            v = rng.randint(1, max_operand)
            steps.append(("+", v))
            clauses.append(rng.choice(_ADD).format(v))
            value += v
    question = f"{name} has {start} {item}, {' and '.join(clauses)}. How many {item}?"
    return Problem(name, item, start, tuple(steps), question, value)


def format_solution(problem: Problem, fmt: str) -> str:
    """The worked solution of `problem` in format `fmt` ("code", "tagged" or "nl")."""
    if fmt == "code":
        return f"x={problem.expression}\nprint(x)"
    if fmt == "tagged":
        return f"<code>{problem.expression}</code> <ans>{problem.answer}</ans>"
    if fmt == "nl":
        value, parts = problem.start, []
        for op, v in problem.steps:
            new = value + v if op == "+" else value - v
            parts.append(f"${value}{op}{v}={new}$")
            value = new
        return f"So {', then '.join(parts)}. The answer is {problem.answer}."
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def pretraining_corpus(
    n: int, mix: Mapping[str, float], seed: int = 0, max_operand: int = 20
) -> list[str]:
    """`n` documents (prompt + solution), the solution format drawn with probabilities `mix`."""
    unknown = set(mix) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats in mix: {sorted(unknown)}; use {', '.join(FORMATS)}")
    fmts = list(mix)
    weights = [float(mix[f]) for f in fmts]
    rng = random.Random(seed + 7919)
    problems = make_problems(n, seed, max_operand)
    return [p.prompt + format_solution(p, rng.choices(fmts, weights)[0]) for p in problems]


# ---- classifying and scoring solutions -------------------------------------------------

_MARKERS = {
    "code": re.compile(r"(?m)^\s*[A-Za-z_]\w*\s*=|print\("),
    "tagged": re.compile(r"<code>|<ans>"),
    "nl": re.compile(r"\$|answer is", re.IGNORECASE),
}


def classify_format(text: str) -> str:
    """Which solution format `text` is in: the format whose marker comes first
    (code: an assignment at a line start or print(; tagged: <code> or <ans>; nl: $ or
    "answer is"), "other" when none appears. Deterministic rules, no model."""
    best, best_pos = "other", len(text) + 1
    for fmt, pattern in _MARKERS.items():
        m = pattern.search(text)
        if m and m.start() < best_pos:
            best, best_pos = fmt, m.start()
    return best


def extract_answer(text: str) -> int | None:
    """The final integer answer a solution states, or None when it states none.

    code: the value printed, interpreting only integer assignments with + - * (never eval);
    tagged: the number in <ans>...</ans>; nl: the number after "answer is" (else the last
    "= N"); other: None."""
    fmt = classify_format(text)
    if fmt == "code":
        return _run_tiny_program(text)
    if fmt == "tagged":
        m = re.search(r"<ans>\s*(-?\d+)\s*</ans>", text)
        return int(m.group(1)) if m else None
    if fmt == "nl":
        m = re.search(r"answer is\s*(-?\d+)", text, re.IGNORECASE)
        if m:
            return int(m.group(1))
        eqs = re.findall(r"=\s*(-?\d+)", text)
        return int(eqs[-1]) if eqs else None
    return None


def is_correct(problem: Problem, text: str) -> bool:
    """0/1 correctness reward: the extracted answer equals the problem's answer."""
    return extract_answer(text) == problem.answer


_MAX_PROGRAM = 400


def _run_tiny_program(text: str) -> int | None:
    """Interpret `name=expr` lines and `print(name|expr)`; integers, names, + - * only.

    Written by hand because model text must never reach eval/exec; `ast` parses it and only
    the whitelisted nodes are computed. Returns the first printed value."""
    if len(text) > _MAX_PROGRAM:
        return None
    try:
        with warnings.catch_warnings():  # model text like "3in" makes the parser warn
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    env: dict[str, int] = {}
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            value = _int_expr(stmt.value, env)
            if value is None:
                return None
            env[stmt.targets[0].id] = value
        elif (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name)
            and stmt.value.func.id == "print"
            and len(stmt.value.args) == 1
            and not stmt.value.keywords
        ):
            return _int_expr(stmt.value.args[0], env)
        else:
            return None
    return None


def _int_expr(node: ast.AST, env: dict[str, int]) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _int_expr(node.operand, env)
        return None if v is None else -v
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
        a, b = _int_expr(node.left, env), _int_expr(node.right, env)
        if a is None or b is None:
            return None
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        return a * b if abs(a) < 10**9 and abs(b) < 10**9 else None
    return None


# ---- multi-digit addition with several solution styles (C7) ----------------------------

ADDITION_STYLES = ("direct", "column", "chunks", "split")


@dataclass(frozen=True)
class AdditionProblem:
    """a + b; the prompt is "a+b=" and a solution continues it."""

    a: int
    b: int

    @property
    def prompt(self) -> str:
        return f"{self.a}+{self.b}="

    @property
    def answer(self) -> int:
        return self.a + self.b


def addition_problems(n: int, seed: int = 0, digits: int = 2) -> list[AdditionProblem]:
    """`n` random problems with two `digits`-digit operands (no leading zeros)."""
    rng = random.Random(seed)
    lo, hi = 10 ** (digits - 1) if digits > 1 else 0, 10**digits - 1
    return [AdditionProblem(rng.randint(lo, hi), rng.randint(lo, hi)) for _ in range(n)]


def format_addition(problem: AdditionProblem, style: str) -> str:
    """One correct solution of `problem` in `style`; every style ends with ";ans N" except
    direct, which is just N. Examples for 57+68:
      direct  125
      column  7+8=15;5+6+1=12;ans 125        (right to left with carries)
      chunks  50+60=110;7+8=15;110+15=125;ans 125   (place values, left to right)
      split   57+60=117;117+8=125;ans 125     (add the tens of b, then its units)"""
    a, b, s = problem.a, problem.b, problem.answer
    if style == "direct":
        return str(s)
    if style == "column":
        da, db = str(a)[::-1], str(b)[::-1]
        carry, steps = 0, []
        for i in range(max(len(da), len(db))):
            x, y = int(da[i]) if i < len(da) else 0, int(db[i]) if i < len(db) else 0
            total = x + y + carry
            steps.append(f"{x}+{y}+{carry}={total}" if carry else f"{x}+{y}={total}")
            carry = total // 10
        return ";".join(steps) + f";ans {s}"
    if style == "chunks":
        high_a, high_b, low_a, low_b = a - a % 10, b - b % 10, a % 10, b % 10
        return (
            f"{high_a}+{high_b}={high_a + high_b};{low_a}+{low_b}={low_a + low_b};"
            f"{high_a + high_b}+{low_a + low_b}={s};ans {s}"
        )
    if style == "split":
        high_b, low_b = b - b % 10, b % 10
        return f"{a}+{high_b}={a + high_b};{a + high_b}+{low_b}={s};ans {s}"
    raise ValueError(f"unknown addition style {style!r}; use one of {', '.join(ADDITION_STYLES)}")


def addition_solutions(problem: AdditionProblem) -> dict[str, str]:
    """The known space of correct solutions: style -> solution text."""
    return {style: format_addition(problem, style) for style in ADDITION_STYLES}


_STEP = r"\d+\+\d+(?:\+\d)?=\d+"
_STYLE_PATTERNS = {
    "direct": re.compile(r"\d+"),
    "column": re.compile(r"\d\+\d(?:\+1)?=\d+(?:;\d\+\d(?:\+1)?=\d+)*;ans \d+"),
    "chunks": re.compile(rf"\d*0\+\d*0=\d+;\d\+\d=\d+;{_STEP};ans \d+"),
    "split": re.compile(rf"\d+\+\d*0=\d+;{_STEP};ans \d+"),
}


def classify_addition_style(text: str) -> str:
    """Which style a solution is written in (full-match rules, checked in ADDITION_STYLES
    order with chunks before split), "other" when none matches."""
    text = text.strip()
    for style in ("direct", "column", "chunks", "split"):
        if _STYLE_PATTERNS[style].fullmatch(text):
            return style
    return "other"


def extract_addition_answer(text: str) -> int | None:
    """The stated sum: the number after the last "ans ", or the whole text if it is a number."""
    text = text.strip()
    m = re.search(r"ans (\d+)\s*$", text)
    if m:
        return int(m.group(1))
    return int(text) if re.fullmatch(r"\d+", text) else None
