"""company_email_domain: the employer's domain of an address, none for public mail services."""
from __future__ import annotations

import pandas as pd

from features.quality import company_email_domain, email_service


def test_company_domain_is_lower_cased_and_public_services_have_none() -> None:
    emails = pd.Series([" Ann@ACME.com ", "bob@gmail.com", "x@mailinator.com", "y@trashmail.xyz", "z@gmial.com",
                        "not-an-address", None, "eve@eu.acme.com"])
    out = company_email_domain(emails)
    assert out.tolist()[0] == "acme.com" and out.tolist()[-1] == "eu.acme.com"
    assert out.iloc[1:7].isna().all()


def test_company_domain_and_email_service_never_both_name_an_address() -> None:
    emails = pd.Series(["a@acme.com", "b@gmail.com", "c@yopmail.com", "d@hotmial.com"])
    company, service = company_email_domain(emails), email_service(emails)
    assert not (company.notna() & service.notna()).any()
    assert service.tolist()[1:] == ["gmail.com", "yopmail.com", "hotmial.com"]
