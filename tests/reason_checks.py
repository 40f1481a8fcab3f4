"""Issue 13: does a reason's wording agree with the sign of its contribution? One checker for the tests
and for benchmarks/trust_report.py. It reads only the SPEC 4 reason objects (label, value, contribution),
not how they were made, so it judges the output as a salesperson would."""
from __future__ import annotations

import re

RAW_CODE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")  # purchased_list, organic_search
ABSENCE = re.compile(r"^(No |Has not |Human-looking|.*: unknown$|.*unknown \(|Company size unknown|"
                     r"Job title not recognised)")
ZERO = re.compile(r"(?<![\d.,])0(?![\d.,])")


def problems(reason: dict) -> list[str]:
    """What is wrong with one reason object (empty: nothing)."""
    label, c, value = str(reason["label"]), float(reason["contribution"]), reason.get("value")
    out = []
    if c < 0 and "(ideal customer profile)" in label:
        out.append("ICP match worded as a negative")
    if c > 0 and "outside the ideal customer profile" in label:
        out.append("outside the ICP worded as a positive")
    if c > 0 and ABSENCE.match(label):
        out.append("absence (no activity / unknown / human-looking) as a positive")
    if c > 0 and "(bot-like)" in label:
        out.append("bot-like burst as a positive")
    if c > 0 and re.match(r"^Negative signals .*: 0$", label):
        out.append("absence of negative signals as a positive")
    m = re.match(r"^Meets (\d+) of (\d+) ideal-customer-profile criteria", label)
    if m and ((c < 0 and m.group(1) == m.group(2)) or (c > 0 and m.group(1) == "0")):
        out.append("ICP criteria count against its sign")
    if RAW_CODE.search(label):
        out.append("raw category code")
    if re.search(r"\b(of|in|at) in\b", label):
        out.append("grammar ('of in')")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < abs(value) < 0.5 \
            and ZERO.search(label) and not re.search(r"\d", label.replace("0", "", 1)):
        out.append("non-zero value printed as 0")
    if abs(c) < 1e-9:
        out.append("zero contribution")
    return out


def scan(reason_lists) -> dict[str, int]:
    """Counts per problem over an iterable of reason lists (parsed top_reasons)."""
    counts: dict[str, int] = {}
    for reasons in reason_lists:
        for reason in reasons:
            for p in problems(reason):
                counts[p] = counts.get(p, 0) + 1
    return counts
