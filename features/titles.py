"""Seniority and department from free-text job titles (English abbreviations and a few other languages)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

# Ordered: the first matching pattern wins, so specific forms come before generic ones.
SENIORITY_PATTERNS: list[tuple[str, str]] = [
    ("intern_student", r"\b(intern|internship|student|trainee|apprentice|praktikant|stagiaire|estudiante|becario)\b"
                       r"|实习|学生"),
    ("vp", r"\b(vp|svp|evp|avp|vice[- ]president|vice[- ]pr[ée]sident|vicepresidente)\b|副总裁"),
    ("owner_founder", r"\b(owner|founder|co-?founder|proprietor|ceo|chief executive|president|managing director|"
                      r"gesch[äa]ftsf[üu]hrer|inhaber|fondateur|pdg|g[ée]rant|fundador|propietario|director general)\b"
                      r"|总经理|创始人|老板"),
    ("c_level", r"\b(c[tfomirs]o|chief \w+ officer|chief)\b|首席"),
    ("head", r"\b(head of|head|leiter|leiterin|responsable|jefe|jefa)\b|负责人"),
    ("director", r"\b(director|dir\.?|directeur|directrice|direktor|directora|diretor|diretora)\b|总监"),
    ("manager", r"\b(manager|mgr\.?|gerente|gestionnaire|manag|supervisor|team lead)\b|经理|主管"),
    ("senior", r"\b(senior|sr\.?|lead|principal|staff|expert)\b|高级"),
    ("individual", r"\b(engineer|developer|analyst|specialist|associate|consultant|coordinator|representative|rep|"
                   r"executive|accountant|designer|administrator|admin|assistant|officer|ingenieur|ingénieur|"
                   r"entwickler|analista|desarrollador|commercial|vendedor)\b|工程师|专员|销售"),
]

DEPARTMENT_PATTERNS: list[tuple[str, str]] = [
    ("sales", r"\b(sales|account executive|business development|bdr|sdr|revenue|commercial|comercial|vertrieb|ventas|"
              r"vendas|vendedor)\b|销售|cro\b"),
    ("marketing", r"\b(marketing|growth|brand|demand gen|content|seo|communications|cmo|mercadeo)\b|市场"),
    ("engineering", r"\b(engineer\w*|developer|software|cto|it|devops|technical|technology|architect|data|"
                    r"ingenieur|ingénieur|entwickler|desarrollador|informatique)\b|工程|技术"),
    ("finance", r"\b(finance|financial|cfo|accountant|accounting|controller|treasury|finanzen|finanzas)\b|财务"),
    ("operations", r"\b(operations|ops|coo|logistics|supply chain|procurement|purchasing|betrieb)\b|运营"),
    ("hr", r"\b(hr|human resources|people|talent|recruit\w*|chro|personal)\b|人力"),
    ("product", r"\b(product|cpo|ux|design\w*)\b|产品"),
    ("executive", r"\b(ceo|chief executive|founder|co-?founder|owner|president|managing director|gesch[äa]ftsf[üu]hrer|"
                  r"pdg|director general)\b|总经理"),
]

SENIORITY_LABELS = {
    "owner_founder": "owner / founder / CEO", "c_level": "C-level", "vp": "VP", "head": "head of",
    "director": "director", "manager": "manager", "senior": "senior / lead", "individual": "individual contributor",
    "intern_student": "intern / student", "other": "unrecognised title", "unknown": "no title",
}

SENIORITY_RANK = {
    "intern_student": 0, "individual": 1, "senior": 2, "manager": 3, "head": 4,
    "director": 4, "vp": 5, "c_level": 6, "owner_founder": 6,
}

_SENIORITY_RE = [(name, re.compile(p, re.IGNORECASE)) for name, p in SENIORITY_PATTERNS]
_DEPARTMENT_RE = [(name, re.compile(p, re.IGNORECASE)) for name, p in DEPARTMENT_PATTERNS]


def _first_match(title: str, patterns: list[tuple[str, re.Pattern[str]]], default: str) -> str:
    for name, pattern in patterns:
        if pattern.search(title):
            return name
    return default


def parse_title(title: object) -> tuple[str, str]:
    """(seniority, department) of one title; 'unknown' when blank, 'other' when unrecognised."""
    if not isinstance(title, str) or not title.strip():
        return "unknown", "unknown"
    text = title.strip()
    return _first_match(text, _SENIORITY_RE, "other"), _first_match(text, _DEPARTMENT_RE, "other")


def parse_titles(titles: pd.Series) -> pd.DataFrame:
    """Seniority, department and seniority rank per title; parses each distinct title once."""
    codes, uniques = pd.factorize(titles, use_na_sentinel=True)
    parsed = [parse_title(u) for u in uniques.tolist()] + [parse_title(None)]  # code -1 (missing) -> last
    seniority = np.array([p[0] for p in parsed], dtype=object)[codes]
    department = np.array([p[1] for p in parsed], dtype=object)[codes]
    rank = np.array([SENIORITY_RANK.get(p[0], np.nan) for p in parsed], dtype=float)[codes]
    return pd.DataFrame(
        {"title_seniority": pd.Series(seniority, index=titles.index, dtype="str"),
         "title_department": pd.Series(department, index=titles.index, dtype="str"),
         "seniority_rank": rank},
        index=titles.index,
    )
