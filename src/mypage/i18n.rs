//! Every string MyPage shows, in one table, and how the language is chosen.

use crate::domain::{CredentialKey, Locale, Purpose, Status};

/// The languages MyPage speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    EnUs,
    EnGb,
    NlNl,
    NlBe,
}

impl Lang {
    /// For `<html lang>`.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::EnUs => "en-US",
            Lang::EnGb => "en-GB",
            Lang::NlNl => "nl-NL",
            Lang::NlBe => "nl-BE",
        }
    }

    /// Matches a tag such as `nl`, `nl_NL`, `nl-be` or `en-AU`: exactly where
    /// possible, else by language. `None` for languages MyPage does not speak.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let tag = tag.trim().replace('-', "_").to_ascii_lowercase();
        let (language, region) = tag.split_once('_').unwrap_or((tag.as_str(), ""));
        match (language, region) {
            ("en", "gb") => Some(Lang::EnGb),
            ("en", _) => Some(Lang::EnUs),
            ("nl", "be") => Some(Lang::NlBe),
            ("nl", _) => Some(Lang::NlNl),
            _ => None,
        }
    }

    /// The identification's locale, else `?lang=`, else `Accept-Language`,
    /// else English. A locale MyPage does not speak (say `de_DE`) falls back by
    /// language, then to the customer's own preferences before English.
    pub fn choose(
        locale: Option<&Locale>,
        query_lang: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        locale
            .and_then(|l| Lang::from_tag(l.as_str()))
            .or_else(|| query_lang.and_then(Lang::from_tag))
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or(Lang::EnUs)
    }

    /// The supported language the browser prefers most (by `q`, then order).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut ranked: Vec<(f32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.split(';');
                let lang = Lang::from_tag(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (q > 0.0).then_some((q, i, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.first().map(|r| r.2)
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::EnUs | Lang::EnGb => &EN,
            Lang::NlNl | Lang::NlBe => &NL,
        }
    }
}

/// The texts of one language. `{org}` stands for the organisation's name.
pub struct Strings {
    pub title: &'static str,
    pub tagline: &'static str,
    pub heading: &'static str,
    pub reference: &'static str,
    pub what_shared: &'static str,
    pub why: &'static str,
    pub optional: &'static str,
    pub test_badge: &'static str,
    pub test_note: &'static str,
    pub scan_heading: &'static str,
    pub scan_help: &'static str,
    pub qr_label: &'static str,
    pub on_phone: &'static str,
    pub open_wallet: &'static str,
    pub check_status: &'static str,
    pub cancel: &'static str,
    pub cancel_help: &'static str,
    pub return_to: &'static str,
    pub test_panel_heading: &'static str,
    pub test_panel_help: &'static str,
    pub outcome_verified: &'static str,
    pub outcome_failed: &'static str,
    pub outcome_canceled: &'static str,
    pub outcome_expired: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub error_title: &'static str,
    pub error_text: &'static str,
    pub live_outcome_title: &'static str,
    pub live_outcome_text: &'static str,
    pub too_large_title: &'static str,
    pub too_large_text: &'static str,
    pub footer: &'static str,
    pub redirecting: &'static str,
    status_text: [&'static str; 7],
    final_heading: [&'static str; 7],
    purposes: [&'static str; 5],
    credentials: [&'static str; 10],
}

impl Strings {
    /// A sentence about the status, for the status line.
    pub fn status_text(&self, status: Status) -> &'static str {
        self.status_text[status.as_i64() as usize]
    }

    /// The heading of the page shown once the identification is final.
    pub fn final_heading(&self, status: Status) -> &'static str {
        self.final_heading[status.as_i64() as usize]
    }

    pub fn purpose(&self, purpose: Purpose) -> &'static str {
        let i = Purpose::ALL.iter().position(|p| *p == purpose).unwrap_or(0);
        self.purposes[i]
    }

    pub fn credential(&self, key: CredentialKey) -> &'static str {
        let i = CredentialKey::ALL
            .iter()
            .position(|k| *k == key)
            .unwrap_or(0);
        self.credentials[i]
    }

    /// The label of a test panel button.
    pub fn outcome(&self, status: Status) -> &'static str {
        match status {
            Status::Verified => self.outcome_verified,
            Status::Failed => self.outcome_failed,
            Status::Canceled => self.outcome_canceled,
            _ => self.outcome_expired,
        }
    }
}

/// Puts the organisation's name into a text.
pub fn with_org(text: &str, org: &str) -> String {
    text.replace("{org}", org)
}

static EN: Strings = Strings {
    title: "Verify your identity",
    tagline: "Secure identification by Proofme",
    heading: "{org} would like to verify you",
    reference: "Reference",
    what_shared: "What you will share",
    why: "Why",
    optional: "optional",
    test_badge: "Test mode",
    test_note: "This is a test identification. Nothing is checked and no real data is shared.",
    scan_heading: "Scan with your wallet app",
    scan_help: "Open the wallet app on your phone and scan this code.",
    qr_label: "QR code to scan with your wallet app",
    on_phone: "Already on your phone?",
    open_wallet: "Open wallet app",
    check_status: "Check status",
    cancel: "Cancel",
    cancel_help: "Changed your mind? You can stop here and go back.",
    return_to: "Return to {org}",
    test_panel_heading: "Test mode: choose an outcome",
    test_panel_help: "Pick the result this test identification gets. You then go back to {org}.",
    outcome_verified: "Verified",
    outcome_failed: "Failed",
    outcome_canceled: "Canceled",
    outcome_expired: "Expired",
    not_found_title: "Page not found",
    not_found_text: "This identification link is not valid. Check the link, or ask the organisation that sent you for a new one.",
    error_title: "Something went wrong",
    error_text: "Please try again in a moment.",
    live_outcome_title: "Not available",
    live_outcome_text: "Test outcomes can only be chosen for test identifications.",
    too_large_title: "Request too large",
    too_large_text: "The form sent more data than this page accepts. Nothing was changed. Go back and try again.",
    footer: "Your data is shared only with your consent.",
    redirecting: "Done. Taking you back…",
    status_text: [
        "Waiting for you to share with your wallet app.",
        "Your wallet is connected. Confirm the sharing in your wallet app.",
        "You have been verified.",
        "The verification failed.",
        "You canceled this identification.",
        "This identification has expired.",
        "{org} has withdrawn this identification.",
    ],
    final_heading: [
        "Waiting for you",
        "Waiting for your wallet",
        "Verification complete",
        "Verification failed",
        "Identification canceled",
        "Identification expired",
        "Identification withdrawn",
    ],
    purposes: [
        "To check your age.",
        "To confirm who you are, as the law requires.",
        "To give you access.",
        "To verify you online.",
        "To identify you.",
    ],
    credentials: [
        "That you are older than 18",
        "That you are older than 21",
        "Your first name",
        "Your last name",
        "Your date of birth",
        "Your nationality",
        "Your ID document number",
        "Your passport photo",
        "Your email address",
        "Your phone number",
    ],
};

static NL: Strings = Strings {
    title: "Verifieer je identiteit",
    tagline: "Veilige identificatie via Proofme",
    heading: "{org} wil je graag verifiëren",
    reference: "Kenmerk",
    what_shared: "Wat je deelt",
    why: "Waarom",
    optional: "optioneel",
    test_badge: "Testmodus",
    test_note: "Dit is een testidentificatie. Er wordt niets gecontroleerd en er worden geen echte gegevens gedeeld.",
    scan_heading: "Scan met je wallet-app",
    scan_help: "Open de wallet-app op je telefoon en scan deze code.",
    qr_label: "QR-code om te scannen met je wallet-app",
    on_phone: "Al op je telefoon?",
    open_wallet: "Open wallet-app",
    check_status: "Status controleren",
    cancel: "Annuleren",
    cancel_help: "Bedacht? Je kunt hier stoppen en teruggaan.",
    return_to: "Terug naar {org}",
    test_panel_heading: "Testmodus: kies een uitkomst",
    test_panel_help: "Kies het resultaat van deze testidentificatie. Daarna ga je terug naar {org}.",
    outcome_verified: "Geverifieerd",
    outcome_failed: "Mislukt",
    outcome_canceled: "Geannuleerd",
    outcome_expired: "Verlopen",
    not_found_title: "Pagina niet gevonden",
    not_found_text: "Deze identificatielink is niet geldig. Controleer de link of vraag de organisatie die je stuurde om een nieuwe.",
    error_title: "Er ging iets mis",
    error_text: "Probeer het over een moment opnieuw.",
    live_outcome_title: "Niet beschikbaar",
    live_outcome_text: "Een testuitkomst kan alleen voor testidentificaties worden gekozen.",
    too_large_title: "Verzoek te groot",
    too_large_text: "Het formulier stuurde meer gegevens dan deze pagina aanneemt. Er is niets gewijzigd. Ga terug en probeer het opnieuw.",
    footer: "Je gegevens worden alleen met jouw toestemming gedeeld.",
    redirecting: "Klaar. Je gaat terug…",
    status_text: [
        "We wachten tot je deelt met je wallet-app.",
        "Je wallet is verbonden. Bevestig het delen in je wallet-app.",
        "Je bent geverifieerd.",
        "De verificatie is mislukt.",
        "Je hebt deze identificatie geannuleerd.",
        "Deze identificatie is verlopen.",
        "{org} heeft deze identificatie ingetrokken.",
    ],
    final_heading: [
        "We wachten op je",
        "We wachten op je wallet",
        "Verificatie voltooid",
        "Verificatie mislukt",
        "Identificatie geannuleerd",
        "Identificatie verlopen",
        "Identificatie ingetrokken",
    ],
    purposes: [
        "Om je leeftijd te controleren.",
        "Om vast te stellen wie je bent, zoals de wet vereist.",
        "Om je toegang te geven.",
        "Om je online te verifiëren.",
        "Om je te identificeren.",
    ],
    credentials: [
        "Dat je ouder bent dan 18",
        "Dat je ouder bent dan 21",
        "Je voornaam",
        "Je achternaam",
        "Je geboortedatum",
        "Je nationaliteit",
        "Het nummer van je identiteitsbewijs",
        "Je pasfoto",
        "Je e-mailadres",
        "Je telefoonnummer",
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn locale(s: &str) -> Locale {
        Locale::parse(s).unwrap()
    }

    #[test]
    fn tags_match_exactly_then_by_language() {
        assert_eq!(Lang::from_tag("nl"), Some(Lang::NlNl));
        assert_eq!(Lang::from_tag("nl_NL"), Some(Lang::NlNl));
        assert_eq!(Lang::from_tag("nl-BE"), Some(Lang::NlBe));
        assert_eq!(Lang::from_tag("en-GB"), Some(Lang::EnGb));
        assert_eq!(Lang::from_tag("en-AU"), Some(Lang::EnUs));
        assert_eq!(Lang::from_tag("de"), None);
    }

    #[test]
    fn locale_wins_then_query_then_accept_language_then_english() {
        assert_eq!(
            Lang::choose(Some(&locale("nl_BE")), Some("en"), Some("en")),
            Lang::NlBe
        );
        assert_eq!(Lang::choose(None, Some("nl"), Some("en")), Lang::NlNl);
        assert_eq!(Lang::choose(None, None, Some("nl-NL,nl;q=0.9")), Lang::NlNl);
        assert_eq!(Lang::choose(None, None, None), Lang::EnUs);
        assert_eq!(
            Lang::choose(Some(&locale("de_DE")), None, Some("nl")),
            Lang::NlNl
        );
        assert_eq!(Lang::choose(Some(&locale("de_DE")), None, None), Lang::EnUs);
    }

    #[test]
    fn accept_language_respects_quality() {
        assert_eq!(
            Lang::from_accept_language("de-DE,en;q=0.5,nl;q=0.8"),
            Some(Lang::NlNl)
        );
        assert_eq!(
            Lang::from_accept_language("fr, en-GB;q=0.1"),
            Some(Lang::EnGb)
        );
        assert_eq!(
            Lang::from_accept_language("nl;q=0, en;q=0.2"),
            Some(Lang::EnUs)
        );
        assert_eq!(Lang::from_accept_language("de, fr"), None);
        assert_eq!(Lang::from_accept_language(";;,q=,"), None);
    }

    #[test]
    fn every_status_purpose_and_credential_has_words_in_both_languages() {
        for s in [&EN, &NL] {
            for st in Status::ALL {
                assert!(!s.status_text(st).is_empty());
                assert!(!s.final_heading(st).is_empty());
            }
            for p in Purpose::ALL {
                assert!(!s.purpose(p).is_empty());
            }
            for k in CredentialKey::ALL {
                assert!(!s.credential(k).is_empty());
            }
        }
        assert_eq!(NL.outcome(Status::Verified), "Geverifieerd");
        assert_eq!(EN.outcome(Status::Canceled), "Canceled");
    }
}
