"""The class roster: a CSV with a header, `student_id` required, `name` and `email` optional.

A roster is refused as a whole, with every problem listed by line, so nothing is provisioned from half a class.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ShopstreamError
from pipeline.naming import COURSE_STACK_SUFFIX, student_stack, validate_cohort

COLUMNS = ("student_id", "name", "email")
# Deliberately simple: one @, no spaces, a dot in the domain. Typos, not RFC 5322, are what a roster check catches.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Ids that are already safe as a folder name keep their spelling in the hand-out path.
_SAFE_FOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")


@dataclass(frozen=True)
class Student:
    student_id: str
    stack: str
    line: int
    name: str = ""
    email: str = ""

    @property
    def folder(self) -> str:
        """The student's hand-out folder name: the id itself when it is a safe file name, else its slug."""
        if _SAFE_FOLDER.match(self.student_id):
            return self.student_id
        return self.stack.split("-", 1)[1]


class RosterError(ShopstreamError):
    """A roster with problems; `problems` holds one `line N: ...` entry per problem."""

    exit_code = 2

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"roster {path} refused ({count}, nothing was provisioned): " + "; ".join(problems))


def is_email(text: str) -> bool:
    return bool(_EMAIL.match(text))


def load_roster(path: Path, cohort: str) -> list[Student]:
    """Read and check the roster; raise RosterError listing every problem, or return the students in file order."""
    validate_cohort(cohort)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ShopstreamError(f"roster {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ShopstreamError(f"cannot read roster {path}: {exc}") from None
    return parse_roster(text, cohort, path)


def parse_roster(text: str, cohort: str, path: Path = Path("<roster>")) -> list[Student]:
    reader = csv.DictReader(text.splitlines())
    header = [column.strip() for column in reader.fieldnames or []]
    problems: list[str] = []
    if "student_id" not in header:
        raise RosterError(path, [f"line 1: the header must name a student_id column (columns: {', '.join(COLUMNS)})"])
    expected = ", ".join(COLUMNS)
    unknown = [column for column in header if column not in COLUMNS]
    problems += [f"line 1: unknown column {column!r} (expected {expected})" for column in unknown]
    reader.fieldnames = header
    students: list[Student] = []
    first_line_of_id: dict[str, int] = {}
    first_id_of_stack: dict[str, tuple[str, int]] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(f"line {line}: more fields than columns in the header")
        student_id = (row.get("student_id") or "").strip()
        email = (row.get("email") or "").strip()
        if not student_id:
            problems.append(f"line {line}: empty student_id")
            continue
        if student_id in first_line_of_id:
            first = first_line_of_id[student_id]
            problems.append(f"line {line}: duplicate student_id {student_id!r} (first on line {first})")
            continue
        first_line_of_id[student_id] = line
        if email and not is_email(email):
            problems.append(f"line {line}: bad e-mail {email!r} for student {student_id!r}")
        stack = student_stack(cohort, student_id)
        if stack.split("-", 1)[1] == COURSE_STACK_SUFFIX:
            problems.append(f"line {line}: student_id {student_id!r} is reserved for the cohort's instructor stack")
        elif stack in first_id_of_stack:
            other, other_line = first_id_of_stack[stack]
            problems.append(
                f"line {line}: student_id {student_id!r} gives stack {stack!r}, like {other!r} on line {other_line}"
            )
        else:
            first_id_of_stack[stack] = (student_id, line)
        students.append(Student(student_id, stack, line, (row.get("name") or "").strip(), email))
    if not students and not problems:
        problems.append("line 2: the roster has no students")
    if problems:
        raise RosterError(path, problems)
    return students


def select(students: list[Student], only: str | None) -> list[Student]:
    """The students named in `--only ID,ID` (all when None); an unknown id is an error, not a silent no-op."""
    if not only:
        return students
    wanted = [part.strip() for part in only.split(",") if part.strip()]
    by_id = {student.student_id: student for student in students}
    unknown = [student_id for student_id in wanted if student_id not in by_id]
    if unknown:
        raise ShopstreamError(f"--only names students not on the roster: {', '.join(unknown)}")
    return [by_id[student_id] for student_id in dict.fromkeys(wanted)]
