"""The vocabularies a sample world is drawn from: industries, countries, lead sources, seniorities and
departments with their fit effects, job titles, person names, mail domains and company-name parts.

Plain tables, no logic: `profiles` draws integer codes into them and `frames` turns the codes back into
strings, so both read the same lists from here.
"""
from __future__ import annotations

import numpy as np

# name, weight, fit effect, revenue per employee (USD), ICP
INDUSTRIES = [
    ("Software", 0.16, 0.65, 220_000), ("Fintech", 0.07, 0.55, 300_000),
    ("Healthcare Technology", 0.07, 0.5, 200_000), ("E-commerce", 0.08, 0.3, 250_000),
    ("Manufacturing", 0.12, -0.1, 180_000), ("Retail", 0.09, -0.25, 120_000),
    ("Financial Services", 0.09, 0.1, 350_000), ("Consulting", 0.09, 0.0, 150_000),
    ("Logistics", 0.07, -0.1, 160_000), ("Education", 0.06, -0.45, 80_000),
    ("Government", 0.04, -0.7, 90_000), ("Media & Entertainment", 0.06, -0.05, 170_000),
]
ICP_INDUSTRIES = ("Software", "Fintech", "Healthcare Technology", "E-commerce")
# name, weight, fit effect, phone country code, email/web tld, language of foreign titles
COUNTRIES = [
    ("United States", 0.35, 0.2, "1", ".com", ""), ("United Kingdom", 0.10, 0.15, "44", ".co.uk", ""),
    ("Germany", 0.10, 0.1, "49", ".de", "de"), ("France", 0.06, 0.0, "33", ".fr", "fr"),
    ("Canada", 0.06, 0.1, "1", ".ca", ""), ("Australia", 0.04, 0.05, "61", ".com.au", ""),
    ("Netherlands", 0.04, 0.1, "31", ".nl", ""), ("Spain", 0.05, -0.1, "34", ".es", "es"),
    ("India", 0.08, -0.4, "91", ".in", ""), ("Brazil", 0.05, -0.3, "55", ".com.br", "pt"),
    ("Sweden", 0.03, 0.05, "46", ".se", ""), ("Singapore", 0.04, 0.0, "65", ".sg", "zh"),
]
# name, weight, A0 (interest on the creation day), fit effect, P(BANT answered), creation event
SOURCES = [
    ("organic_search", 0.22, 3.25, 0.0, 0.40, "form_submit"),
    ("paid_search", 0.15, 3.75, 0.0, 0.40, "form_submit"),
    ("webinar", 0.10, 7.5, 0.2, 0.65, "webinar_registration"),
    ("referral", 0.07, 6.25, 0.6, 0.70, "form_submit"),
    ("event", 0.08, 5.0, 0.2, 0.60, "event_booth_visit"),
    ("content_download", 0.18, 2.5, -0.2, 0.35, "content_download"),
    ("partner", 0.08, 4.0, 0.3, 0.50, ""),
    ("purchased_list", 0.12, 0.5, -0.8, 0.10, ""),
]
JUNK_SOURCE_WEIGHTS = {"organic_search": 0.35, "paid_search": 0.2, "content_download": 0.35, "webinar": 0.1}

SENIORITIES = ["founder", "c_level", "vp", "head", "director", "manager", "senior", "ic", "intern"]
SENIORITY_W = [0.05, 0.05, 0.06, 0.06, 0.10, 0.21, 0.16, 0.27, 0.04]
SENIORITY_FIT = np.array([0.55, 0.7, 0.8, 0.6, 0.5, 0.2, 0.0, -0.35, -1.6])
DEPARTMENTS = ["sales", "marketing", "engineering", "finance", "operations", "hr", "product", "general"]
DEPARTMENT_W = [0.22, 0.24, 0.20, 0.08, 0.10, 0.06, 0.10, 0.0]
DEPARTMENT_FIT = np.array([0.35, 0.45, 0.15, -0.05, 0.0, -0.45, 0.2, 0.3])

DEPT_WORDS = {
    "sales": ["Sales", "Sales", "Business Development", "Revenue"],
    "marketing": ["Marketing", "Marketing", "Growth", "Demand Generation"],
    "engineering": ["Engineering", "IT", "Technology", "Software Engineering"],
    "finance": ["Finance", "Finance", "Accounting"],
    "operations": ["Operations", "Operations", "Supply Chain"],
    "hr": ["HR", "People", "Human Resources", "Talent Acquisition"],
    "product": ["Product", "Product", "Product Management"],
}
# (template, seniority) of the vp / head / director / manager titles of a department: "{w}" is each of its
# DEPT_WORDS in EVERY_WORD_TITLES, only the first one in FIRST_WORD_TITLES
EVERY_WORD_TITLES = [("VP {w}", "vp"), ("VP of {w}", "vp"), ("Head of {w}", "head"), ("Director of {w}", "director"),
                     ("{w} Manager", "manager")]
FIRST_WORD_TITLES = [("Vice President, {w}", "vp"), ("SVP {w}", "vp"), ("{w} Director", "director"),
                     ("Dir. of {w}", "director"), ("Sr. Director, {w}", "director"), ("Manager, {w}", "manager"),
                     ("{w} Mgr", "manager"), ("{w} Team Lead", "manager")]
C_LEVEL_TITLES = {
    "sales": ["CRO", "Chief Revenue Officer", "Chief Sales Officer"],
    "marketing": ["CMO", "Chief Marketing Officer"],
    "engineering": ["CTO", "Chief Technology Officer", "CIO", "Chief Information Officer"],
    "finance": ["CFO", "Chief Financial Officer"],
    "operations": ["COO", "Chief Operating Officer"],
    "hr": ["CHRO", "Chief People Officer"],
    "product": ["CPO", "Chief Product Officer"],
}
SENIOR_TITLES = {
    "sales": ["Senior Account Executive", "Sr. Account Executive", "Lead Sales Engineer", "Senior BDR"],
    "marketing": ["Senior Marketing Specialist", "Sr. Content Marketing Manager", "Lead Growth Marketer",
                  "Senior SEO Specialist"],
    "engineering": ["Sr. Software Engineer", "Senior Software Engineer", "Lead Engineer", "Staff Engineer",
                    "Principal Engineer", "Senior DevOps Engineer", "Sr. Data Engineer"],
    "finance": ["Senior Accountant", "Sr. Financial Analyst", "Lead Controller"],
    "operations": ["Senior Operations Analyst", "Sr. Procurement Specialist", "Lead Logistics Coordinator"],
    "hr": ["Senior Recruiter", "Sr. HR Business Partner", "Lead Talent Partner"],
    "product": ["Senior Product Manager", "Sr. Product Designer", "Lead UX Designer"],
}
IC_TITLES = {
    "sales": ["Account Executive", "SDR", "Sales Development Representative", "BDR", "Sales Representative",
              "Inside Sales Rep", "Account Manager"],
    "marketing": ["Marketing Specialist", "Content Marketer", "Marketing Coordinator", "Marketing Associate",
                  "SEO Specialist", "Social Media Specialist"],
    "engineering": ["Software Engineer", "Developer", "IT Specialist", "System Administrator",
                    "Data Analyst", "Web Developer", "DevOps Engineer", "Data Scientist"],
    "finance": ["Accountant", "Financial Analyst", "Bookkeeper", "Finance Associate"],
    "operations": ["Operations Analyst", "Operations Coordinator", "Office Administrator", "Buyer"],
    "hr": ["Recruiter", "HR Generalist", "HR Assistant", "Talent Acquisition Specialist"],
    "product": ["Product Designer", "UX Designer", "Product Analyst", "Associate Product Manager"],
}
FOUNDER_TITLES = ["Founder", "Co-Founder", "Founder & CEO", "CEO", "Chief Executive Officer", "Owner",
                  "Managing Director", "President", "Co-founder and CEO", "Owner/Operator"]
# language -> (title, seniority, department)
FOREIGN_TITLES = {
    "de": [("Geschäftsführer", "founder", "general"), ("Leiter Vertrieb", "head", "sales"),
           ("Leiterin Marketing", "head", "marketing"), ("Vertriebsleiter", "head", "sales"),
           ("Softwareentwickler", "ic", "engineering"), ("Entwickler", "ic", "engineering"),
           ("Praktikant", "intern", "marketing"), ("Inhaber", "founder", "general"),
           ("Leiter IT", "head", "engineering"), ("Personalreferentin", "ic", "hr")],
    "fr": [("Directeur commercial", "director", "sales"), ("Responsable marketing", "manager", "marketing"),
           ("Directeur marketing", "director", "marketing"), ("Fondateur", "founder", "general"),
           ("Ingénieur logiciel", "ic", "engineering"), ("Directrice financière", "director", "finance"),
           ("Chargé de recrutement", "ic", "hr"), ("Stagiaire marketing", "intern", "marketing"),
           ("PDG", "founder", "general")],
    "es": [("Gerente de ventas", "manager", "sales"), ("Jefe de marketing", "head", "marketing"),
           ("Directora de marketing", "director", "marketing"), ("Desarrollador de software", "ic", "engineering"),
           ("Director general", "founder", "general"), ("Analista financiero", "ic", "finance"),
           ("Gerente de operaciones", "manager", "operations")],
    "pt": [("Gerente de vendas", "manager", "sales"), ("Diretor comercial", "director", "sales"),
           ("Analista de marketing", "ic", "marketing"), ("Desenvolvedor de software", "ic", "engineering"),
           ("Fundador", "founder", "general"), ("Gerente de marketing", "manager", "marketing")],
    "zh": [("销售经理", "manager", "sales"), ("市场总监", "director", "marketing"), ("技术总监", "director", "engineering"),
           ("软件工程师", "ic", "engineering"), ("总经理", "founder", "general"), ("财务经理", "manager", "finance"),
           ("产品经理", "manager", "product")],
}
FIRST_NAMES = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Susan", "Richard", "Jessica", "Joseph", "Sarah", "Thomas", "Karen", "Daniel", "Emily",
    "Matthew", "Laura", "Anthony", "Amanda", "Mark", "Rachel", "Kevin", "Megan", "Brian", "Hannah",
    "Oliver", "Charlotte", "Harry", "Amelia", "George", "Sophie", "Lukas", "Anna", "Jonas", "Lena",
    "Felix", "Marie", "Jürgen", "Katrin", "Pierre", "Camille", "Louis", "Chloé", "Hugo", "Léa",
    "José", "María", "Carlos", "Lucía", "Javier", "Sofía", "João", "Ana", "Pedro", "Beatriz",
    "Priya", "Rahul", "Ananya", "Arjun", "Deepika", "Vikram", "Wei", "Li", "Mei", "Jun",
    "Erik", "Astrid", "Lars", "Ingrid", "Sven", "Noah", "Liam", "Emma", "Olivia", "Ava",
]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
    "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green",
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch",
    "Dubois", "Lefèvre", "Moreau", "Laurent", "Bernard", "Fernández", "López", "González", "Pérez", "Sánchez",
    "Silva", "Santos", "Oliveira", "Souza", "Costa", "Patel", "Sharma", "Singh", "Kumar", "Gupta",
    "Wang", "Zhang", "Chen", "Liu", "Tan", "Andersson", "Johansson", "Karlsson", "Nilsson", "de Vries",
    "van Dijk", "O'Brien", "Murphy", "Kelly", "Nguyen", "Kim", "Park", "Rossi", "Bianchi", "Novak",
]
JUNK_NAMES = ["asdf", "test", "qwerty", "Test", "aaaa", "xxx", "asdfgh", "zzzz", "jjjjj", "sdfsdf",
              "fdsa", "abc", "hjkl", "qwe", "Mickey", "Mouse", "dummy", "fake", "kkkk", "test123"]
MASH_LETTERS = np.array(list("asdfghjklqwertzxcvbn"))

FREE_MAIL = ["gmail.com"] * 10 + ["yahoo.com"] * 3 + ["outlook.com"] * 3 + ["hotmail.com"] * 2 + [
    "icloud.com", "aol.com", "proton.me", "gmx.de", "web.de", "orange.fr", "hotmail.co.uk", "yahoo.fr",
    "qq.com", "live.com"]
DISPOSABLE = ["mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com", "tempmail.com",
              "sharklasers.com", "trashmail.com", "dispostable.com"]
TYPO_FREE_MAIL = ["gmial.com", "gmai.com", "yahooo.com", "hotmial.com", "outlok.com", "gnail.com"]
TYPO_TLD = [".con", ".cm", ".comm", ".om"]
ROLE_LOCALS = ["info", "sales", "contact", "hello", "marketing", "office"]
INVALID_PHONES = ["123", "000-000-0000", "n/a", "555", "1111111", "+1", "0", "12345"]

SYLLABLES = ["ac", "al", "ar", "bel", "bri", "cal", "cor", "dat", "del", "ex", "fin", "flo", "gen", "hel",
             "in", "jet", "kin", "lum", "lyx", "mar", "max", "mer", "nex", "nov", "om", "pix", "pro", "quan",
             "ra", "ri", "sol", "spr", "syn", "tek", "tra", "tri", "ver", "vi", "vo", "wav", "xa", "zen",
             "zo", "ly", "ta", "na", "on", "ia", "um", "is", "ix", "ora", "io", "eon", "ent", "ica"]
DESCRIPTORS = [" Labs", " Systems", " Group", " Technologies", " Solutions", " Software", " Analytics",
               " Partners", " Health", " Capital", " Logistics", " Media", " Digital", " Networks", " Works"]
LEGAL = {"United States": [" Inc.", " LLC", " Corp."], "United Kingdom": [" Ltd", " plc"],
         "Germany": [" GmbH", " AG"], "France": [" SAS", " SA"], "Spain": [" S.L.", " S.A."],
         "Netherlands": [" B.V."], "Brazil": [" Ltda"], "Sweden": [" AB"], "Canada": [" Inc."],
         "Australia": [" Pty Ltd"], "India": [" Pvt Ltd"], "Singapore": [" Pte Ltd"]}
N_OWNERS = 24
