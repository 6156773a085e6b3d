"""trusted_verdicts(): only the receiving MTA's own Authentication-Results count."""

from __future__ import annotations

from incidents.mailbox.authresults import Verdicts, trusted_verdicts
from tests.incidents.mailbox.corpus import parsed_mail

TRUSTED = "mx.cert.gov.ma"


def test_the_topmost_trusted_header_wins_over_a_forged_one_below() -> None:
    mail = parsed_mail("dmarc_fail_spoofed.eml")
    verdicts = trusted_verdicts(mail.authentication_results, "MX.Cert.Gov.MA")
    assert verdicts == Verdicts(
        authserv_id=TRUSTED,
        spf="fail",
        dkim="none",
        dmarc="fail",
        header=mail.authentication_results[0],
    )
    assert verdicts.dmarc_failed and not verdicts.authenticated


def test_headers_of_other_ids_are_ignored() -> None:
    values = [
        "evil.example; dmarc=pass header.from=interieur.gov.ma",
        f"{TRUSTED}; spf=pass smtp.mailfrom=interieur.gov.ma; dmarc=none",
    ]
    verdicts = trusted_verdicts(values, TRUSTED)
    assert verdicts is not None
    assert (verdicts.spf, verdicts.dkim, verdicts.dmarc) == ("pass", None, "none")
    assert verdicts.authenticated  # no DMARC policy: SPF passed
    assert trusted_verdicts(values[:1], TRUSTED) is None


def test_no_trusted_id_configured_means_no_verdicts() -> None:
    assert trusted_verdicts([f"{TRUSTED}; dmarc=pass"], None) is None
    assert trusted_verdicts([], TRUSTED) is None


def test_dkim_passes_if_any_signature_passed_and_first_results_otherwise() -> None:
    values = [
        f"{TRUSTED}; dkim=fail header.d=a.example; dkim=pass header.d=interieur.gov.ma;"
        " spf=softfail smtp.mailfrom=x; spf=pass smtp.mailfrom=y; dmarc=pass"
    ]
    verdicts = trusted_verdicts(values, TRUSTED)
    assert verdicts is not None
    assert (verdicts.dkim, verdicts.spf, verdicts.dmarc) == ("pass", "softfail", "pass")
    two_failures = trusted_verdicts([f"{TRUSTED}; dkim=neutral; dkim=fail"], TRUSTED)
    assert two_failures is not None and two_failures.dkim == "neutral"


def test_malformed_headers_never_raise() -> None:
    values = ["", ";;;", "(unclosed comment", "x; spf", "\x00\x01", f"{TRUSTED}; dmarc=fail"]
    verdicts = trusted_verdicts(values, TRUSTED)
    assert verdicts is not None and verdicts.dmarc == "fail"


def test_a_malformed_trusted_header_is_not_replaced_by_a_forged_one_below() -> None:
    values = [f"{TRUSTED}; spf=pass (((", f"{TRUSTED}; dmarc=pass; dkim=pass"]
    assert trusted_verdicts(values, TRUSTED) == Verdicts(TRUSTED, None, None, None, values[0])


def test_version_and_none_results() -> None:
    verdicts = trusted_verdicts([f"{TRUSTED} 1; none"], TRUSTED)
    assert verdicts == Verdicts(TRUSTED, None, None, None, f"{TRUSTED} 1; none")
    assert not verdicts.authenticated
