//! Every string MyPage shows, in one table, and how the language is chosen.

use crate::domain::{CredentialKey, FailureReason, Locale, Purpose, Status};

/// The languages MyPage speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    EnUs,
    EnGb,
    NlNl,
    NlBe,
}

/// A language without its region: what the language switch offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    English,
    Dutch,
}

impl Language {
    /// Every language the switch offers, in its order.
    pub const ALL: [Language; 2] = [Language::English, Language::Dutch];

    /// The tag the switch links carry (`?setlang=en`).
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Dutch => "nl",
        }
    }

    /// The language's name in itself, as the switch shows it.
    pub fn name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::Dutch => "Nederlands",
        }
    }
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

    pub fn language(self) -> Language {
        match self {
            Lang::EnUs | Lang::EnGb => Language::English,
            Lang::NlNl | Lang::NlBe => Language::Dutch,
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

    /// The language for a page. What the customer picked with the language
    /// switch (`chosen`) wins; else the identification's locale, else
    /// `?lang=`, else `Accept-Language`, else English. A locale MyPage does
    /// not speak (say `de_DE`) falls back by language, then to the customer's
    /// own preferences before English. A pick without a region (`en`) takes
    /// the region from the other hints where they name one (`en-GB`).
    pub fn choose(
        chosen: Option<&str>,
        locale: Option<&Locale>,
        query_lang: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        let usual = locale
            .and_then(|l| Lang::from_tag(l.as_str()))
            .or_else(|| query_lang.and_then(Lang::from_tag))
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or(Lang::EnUs);
        let Some((tag, picked)) = chosen.and_then(|c| Some((c, Lang::from_tag(c)?))) else {
            return usual;
        };
        let has_region = tag
            .split(['-', '_'])
            .nth(1)
            .is_some_and(|r| !r.trim().is_empty());
        if has_region {
            return picked;
        }
        if usual.language() == picked.language() {
            return usual;
        }
        locale
            .and_then(|l| Lang::from_tag(l.as_str()))
            .into_iter()
            .chain(query_lang.and_then(Lang::from_tag))
            .chain(accept_language.map(Lang::ranked).unwrap_or_default())
            .find(|l| l.language() == picked.language())
            .unwrap_or(picked)
    }

    /// The supported language the browser prefers most (by `q`, then order).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        Lang::ranked(header).first().copied()
    }

    /// The supported languages of an `Accept-Language` header, most wanted
    /// first; those with `q=0` are left out.
    fn ranked(header: &str) -> Vec<Lang> {
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
        ranked.into_iter().map(|r| r.2).collect()
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::EnUs => &EN,
            Lang::EnGb => &EN_GB,
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
    pub language_label: &'static str,
    /// The pill in the page header of a test identification.
    pub test_badge: &'static str,
    pub test_note: &'static str,
    pub wallet_heading: &'static str,
    /// The phone's first action: the same-device wallet link.
    pub open_wallet: &'static str,
    /// What opens the QR code on a phone.
    pub show_qr: &'static str,
    pub scan_help: &'static str,
    pub qr_label: &'static str,
    /// The desktop's quieter same-device wallet link.
    pub open_wallet_here: &'static str,
    /// The browser's own wallet chooser (the Digital Credentials API),
    /// shown by the script only where the browser has it.
    pub use_wallet_on_device: &'static str,
    /// Said when the browser's wallet sheet was closed without an answer.
    pub device_wallet_closed: &'static str,
    /// Said when the browser's wallet answered but the answer was not taken.
    pub device_wallet_failed: &'static str,
    pub no_wallet: &'static str,
    /// Under "no wallet", unless the deployment configures its own text.
    pub wallet_help: &'static str,
    pub check_status: &'static str,
    pub pending_heading: &'static str,
    pub progress_label: &'static str,
    pub step_connected: &'static str,
    pub step_confirm: &'static str,
    pub step_back: &'static str,
    pub reopen_wallet: &'static str,
    pub cancel_question: &'static str,
    pub cancel: &'static str,
    pub cancel_title: &'static str,
    pub cancel_text: &'static str,
    pub cancel_yes: &'static str,
    pub cancel_keep: &'static str,
    pub return_to: &'static str,
    pub test_panel_tag: &'static str,
    pub test_panel_heading: &'static str,
    pub test_panel_help: &'static str,
    pub outcome_verified: &'static str,
    pub outcome_failed: &'static str,
    pub outcome_canceled: &'static str,
    pub outcome_expired: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub go_back: &'static str,
    pub error_title: &'static str,
    pub error_text: &'static str,
    pub unavailable_title: &'static str,
    pub unavailable_text: &'static str,
    pub live_outcome_title: &'static str,
    pub live_outcome_text: &'static str,
    pub too_large_title: &'static str,
    pub too_large_text: &'static str,
    pub footer: &'static str,
    /// The footer of pages that belong to no identification.
    pub footer_plain: &'static str,
    pub redirecting: &'static str,
    status_text: [&'static str; 7],
    final_heading: [&'static str; 7],
    /// What the customer can do next, per status; empty where nothing is left.
    next_step: [&'static str; 7],
    /// Why a wallet's answer failed: issuer not trusted, credential expired,
    /// something asked for not shared, the answer could not be checked.
    failure: [&'static str; 6],
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

    /// What to do after this status, if anything.
    pub fn next_step(&self, status: Status) -> Option<&'static str> {
        Some(self.next_step[status.as_i64() as usize]).filter(|s| !s.is_empty())
    }

    /// Why a wallet's answer failed, in the customer's words.
    pub fn failure(&self, reason: FailureReason) -> &'static str {
        let i = match reason {
            FailureReason::UntrustedIssuer => 0,
            FailureReason::ExpiredCredential => 1,
            FailureReason::MissingCredential | FailureReason::AgeRequirementNotMet => 2,
            FailureReason::InvalidSignature
            | FailureReason::InvalidKeyBinding
            | FailureReason::InvalidPresentation
            | FailureReason::WalletError => 3,
            FailureReason::RevokedCredential => 4,
            FailureReason::StatusUnavailable => 5,
        };
        self.failure[i]
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

const EN: Strings = Strings {
    title: "Verify your identity",
    tagline: "Secure identification by Proofme",
    heading: "{org} would like to verify you",
    reference: "Reference",
    what_shared: "What you will share",
    why: "Why",
    optional: "optional",
    language_label: "Language",
    test_badge: "Test mode",
    test_note: "This is a test identification. Nothing is checked and no real data is shared.",
    wallet_heading: "Share with your wallet app",
    open_wallet: "Open wallet app",
    show_qr: "Use another device? Show QR code",
    scan_help: "Scan this code with the wallet app on your phone.",
    qr_label: "QR code to scan with your wallet app",
    open_wallet_here: "Wallet on this computer? Open it",
    use_wallet_on_device: "Use a wallet on this device",
    device_wallet_closed: "No wallet was chosen. You can try again, or use the QR code or the link.",
    device_wallet_failed: "That did not work. You can try again, or use the QR code or the link.",
    no_wallet: "Don't have a wallet app?",
    wallet_help: "You need a wallet app with your digital ID, such as the EU Digital Identity Wallet of your country. Install it from your phone's app store, add your ID, then come back to this page.",
    check_status: "Check status",
    pending_heading: "Continue in your wallet app",
    progress_label: "Progress",
    step_connected: "Wallet connected",
    step_confirm: "Confirm in your wallet",
    step_back: "Back to {org}",
    reopen_wallet: "Wallet app closed? Open it again",
    cancel_question: "Changed your mind?",
    cancel: "Cancel",
    cancel_title: "Cancel this identification?",
    cancel_text: "{org} will not receive anything from you, and you go back to {org}. To verify later, you will need a new link from {org}.",
    cancel_yes: "Yes, cancel",
    cancel_keep: "Keep going",
    return_to: "Return to {org}",
    test_panel_tag: "For testing only",
    test_panel_heading: "Test mode: choose an outcome",
    test_panel_help: "Pick the result this test identification gets. You then go back to {org}.",
    outcome_verified: "Verified",
    outcome_failed: "Failed",
    outcome_canceled: "Canceled",
    outcome_expired: "Expired",
    not_found_title: "Page not found",
    not_found_text: "This identification link is not valid. Check the link, or ask the organisation that sent you for a new one.",
    go_back: "Go back",
    error_title: "Something went wrong",
    error_text: "Please try again in a moment.",
    unavailable_title: "Temporarily unavailable",
    unavailable_text: "This page cannot be loaded just now. Please try again in a minute.",
    live_outcome_title: "Not available",
    live_outcome_text: "Test outcomes can only be chosen for test identifications.",
    too_large_title: "Request too large",
    too_large_text: "The form sent more data than this page accepts. Nothing was changed. Go back and try again.",
    footer: "Your data is shared only with your consent.",
    footer_plain: "Proofme: secure identification for organisations and their customers.",
    redirecting: "Done. Taking you back…",
    status_text: [
        "Waiting for you to share with your wallet app.",
        "Your wallet is connected. Check your phone and confirm the sharing in your wallet app.",
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
    next_step: [
        "",
        "",
        "",
        "To try again, ask {org} for a new link.",
        "Changed your mind again? Ask {org} for a new link.",
        "To verify now, ask {org} for a new link.",
        "If you still need to verify, ask {org} for a new link.",
    ],
    failure: [
        "Your wallet's ID comes from an issuer that is not accepted.",
        "The ID in your wallet has expired.",
        "Your wallet did not share everything {org} asked for.",
        "Your wallet's answer could not be checked.",
        "The ID in your wallet has been withdrawn or suspended by its issuer.",
        "Its issuer could not confirm that the ID in your wallet is still valid.",
    ],
    purposes: [
        "To check your age.",
        "To confirm who you are, as the law requires.",
        "To give you access.",
        "To verify you online.",
        "To identify you.",
    ],
    credentials: [
        "18 or older",
        "21 or older",
        "First name",
        "Last name",
        "Date of birth",
        "Nationality",
        "ID document number",
        "Passport photo",
        "Email address",
        "Phone number",
    ],
};

/// British English: the same words, British spelling where it differs.
const EN_GB: Strings = Strings {
    outcome_canceled: "Cancelled",
    status_text: [
        EN.status_text[0],
        EN.status_text[1],
        EN.status_text[2],
        EN.status_text[3],
        "You cancelled this identification.",
        EN.status_text[5],
        EN.status_text[6],
    ],
    final_heading: [
        EN.final_heading[0],
        EN.final_heading[1],
        EN.final_heading[2],
        EN.final_heading[3],
        "Identification cancelled",
        EN.final_heading[5],
        EN.final_heading[6],
    ],
    ..EN
};

const NL: Strings = Strings {
    title: "Verifieer je identiteit",
    tagline: "Veilige identificatie via Proofme",
    heading: "{org} wil je graag verifiëren",
    reference: "Kenmerk",
    what_shared: "Wat je deelt",
    why: "Waarom",
    optional: "optioneel",
    language_label: "Taal",
    test_badge: "Testmodus",
    test_note: "Dit is een testidentificatie. Er wordt niets gecontroleerd en er worden geen echte gegevens gedeeld.",
    wallet_heading: "Deel met je wallet-app",
    open_wallet: "Open wallet-app",
    show_qr: "Ander apparaat? Toon QR-code",
    scan_help: "Scan deze code met de wallet-app op je telefoon.",
    qr_label: "QR-code om te scannen met je wallet-app",
    open_wallet_here: "Wallet op deze computer? Open hem",
    use_wallet_on_device: "Gebruik een wallet op dit apparaat",
    device_wallet_closed: "Er is geen wallet gekozen. Probeer het opnieuw, of gebruik de QR-code of de link.",
    device_wallet_failed: "Dat lukte niet. Probeer het opnieuw, of gebruik de QR-code of de link.",
    no_wallet: "Geen wallet-app?",
    wallet_help: "Je hebt een wallet-app met je digitale identiteit nodig, zoals de EU Digital Identity Wallet van jouw land. Installeer hem via de app store van je telefoon, voeg je identiteitsbewijs toe en kom dan terug naar deze pagina.",
    check_status: "Status controleren",
    pending_heading: "Ga verder in je wallet-app",
    progress_label: "Voortgang",
    step_connected: "Wallet verbonden",
    step_confirm: "Bevestig in je wallet",
    step_back: "Terug naar {org}",
    reopen_wallet: "Wallet-app gesloten? Open hem opnieuw",
    cancel_question: "Toch niet?",
    cancel: "Annuleren",
    cancel_title: "Deze identificatie annuleren?",
    cancel_text: "{org} ontvangt niets van je en je gaat terug naar {org}. Wil je later toch verifiëren, dan heb je een nieuwe link van {org} nodig.",
    cancel_yes: "Ja, annuleren",
    cancel_keep: "Doorgaan",
    return_to: "Terug naar {org}",
    test_panel_tag: "Alleen om te testen",
    test_panel_heading: "Testmodus: kies een uitkomst",
    test_panel_help: "Kies het resultaat van deze testidentificatie. Daarna ga je terug naar {org}.",
    outcome_verified: "Geverifieerd",
    outcome_failed: "Mislukt",
    outcome_canceled: "Geannuleerd",
    outcome_expired: "Verlopen",
    not_found_title: "Pagina niet gevonden",
    not_found_text: "Deze identificatielink werkt niet. Controleer de link, of vraag de organisatie die je hierheen stuurde om een nieuwe link.",
    go_back: "Ga terug",
    error_title: "Er ging iets mis",
    error_text: "Probeer het over een moment opnieuw.",
    unavailable_title: "Tijdelijk niet beschikbaar",
    unavailable_text: "Deze pagina kan nu even niet worden geladen. Probeer het over een minuut opnieuw.",
    live_outcome_title: "Niet beschikbaar",
    live_outcome_text: "Een testuitkomst kan alleen voor testidentificaties worden gekozen.",
    too_large_title: "Verzoek te groot",
    too_large_text: "Het formulier stuurde meer gegevens dan deze pagina aanneemt. Er is niets gewijzigd. Ga terug en probeer het opnieuw.",
    footer: "Je gegevens worden alleen met jouw toestemming gedeeld.",
    footer_plain: "Proofme: veilige identificatie voor organisaties en hun klanten.",
    redirecting: "Klaar. Je gaat terug…",
    status_text: [
        "We wachten tot je deelt met je wallet-app.",
        "Je wallet is verbonden. Kijk op je telefoon en bevestig het delen in je wallet-app.",
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
    next_step: [
        "",
        "",
        "",
        "Wil je het opnieuw proberen? Vraag {org} om een nieuwe link.",
        "Toch verifiëren? Vraag {org} om een nieuwe link.",
        "Wil je nu verifiëren? Vraag {org} om een nieuwe link.",
        "Moet je nog verifiëren? Vraag {org} om een nieuwe link.",
    ],
    failure: [
        "Je wallet heeft een identiteitsbewijs van een uitgever die niet wordt geaccepteerd.",
        "Het identiteitsbewijs in je wallet is verlopen.",
        "Je wallet heeft niet alles gedeeld waar {org} om vroeg.",
        "Het antwoord van je wallet kon niet worden gecontroleerd.",
        "Het identiteitsbewijs in je wallet is ingetrokken of geschorst door de uitgever.",
        "De uitgever kon niet bevestigen dat het identiteitsbewijs in je wallet nog geldig is.",
    ],
    purposes: [
        "Om je leeftijd te controleren.",
        "Om vast te stellen wie je bent, zoals de wet vereist.",
        "Om je toegang te geven.",
        "Om je online te verifiëren.",
        "Om je te identificeren.",
    ],
    credentials: [
        "18 jaar of ouder",
        "21 jaar of ouder",
        "Voornaam",
        "Achternaam",
        "Geboortedatum",
        "Nationaliteit",
        "Nummer van je identiteitsbewijs",
        "Pasfoto",
        "E-mailadres",
        "Telefoonnummer",
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
            Lang::choose(None, Some(&locale("nl_BE")), Some("en"), Some("en")),
            Lang::NlBe
        );
        assert_eq!(Lang::choose(None, None, Some("nl"), Some("en")), Lang::NlNl);
        assert_eq!(
            Lang::choose(None, None, None, Some("nl-NL,nl;q=0.9")),
            Lang::NlNl
        );
        assert_eq!(Lang::choose(None, None, None, None), Lang::EnUs);
        assert_eq!(
            Lang::choose(None, Some(&locale("de_DE")), None, Some("nl")),
            Lang::NlNl
        );
        assert_eq!(
            Lang::choose(None, Some(&locale("de_DE")), None, None),
            Lang::EnUs
        );
    }

    #[test]
    fn the_customers_pick_wins_over_the_locale() {
        assert_eq!(
            Lang::choose(Some("nl"), Some(&locale("en_GB")), None, None),
            Lang::NlNl
        );
        assert_eq!(
            Lang::choose(Some("en"), Some(&locale("nl_NL")), Some("nl"), Some("nl")),
            Lang::EnUs
        );
        // A language the switch does not know changes nothing.
        assert_eq!(
            Lang::choose(Some("fr"), Some(&locale("nl_BE")), None, None),
            Lang::NlBe
        );
    }

    #[test]
    fn a_pick_without_a_region_keeps_the_region_the_other_hints_name() {
        // Switching back to English keeps British English for a British customer.
        assert_eq!(
            Lang::choose(Some("en"), Some(&locale("en_GB")), None, None),
            Lang::EnGb
        );
        assert_eq!(
            Lang::choose(
                Some("en"),
                Some(&locale("nl_NL")),
                None,
                Some("nl, en-GB;q=0.5")
            ),
            Lang::EnGb
        );
        assert_eq!(
            Lang::choose(Some("nl"), None, None, Some("en-US, nl-BE;q=0.3")),
            Lang::NlBe
        );
        // A pick with a region is taken as it is.
        assert_eq!(
            Lang::choose(Some("en-US"), Some(&locale("en_GB")), None, None),
            Lang::EnUs
        );
        assert_eq!(
            Lang::choose(Some("nl_NL"), None, None, Some("nl-BE")),
            Lang::NlNl
        );
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

    #[test]
    fn british_english_spells_cancelled_with_two_ls() {
        let gb = Lang::EnGb.strings();
        assert_eq!(gb.outcome(Status::Canceled), "Cancelled");
        assert_eq!(
            gb.final_heading(Status::Canceled),
            "Identification cancelled"
        );
        assert_eq!(
            gb.status_text(Status::Canceled),
            "You cancelled this identification."
        );
        let us = Lang::EnUs.strings();
        assert_eq!(
            us.final_heading(Status::Canceled),
            "Identification canceled"
        );
        // Everything else is the same.
        assert_eq!(gb.heading, us.heading);
        assert_eq!(
            gb.final_heading(Status::Verified),
            us.final_heading(Status::Verified)
        );
    }

    #[test]
    fn ages_read_as_or_older() {
        assert_eq!(EN.credential(CredentialKey::OlderThan18), "18 or older");
        assert_eq!(EN.credential(CredentialKey::OlderThan21), "21 or older");
        assert_eq!(
            NL.credential(CredentialKey::OlderThan18),
            "18 jaar of ouder"
        );
        assert_eq!(
            NL.credential(CredentialKey::OlderThan21),
            "21 jaar of ouder"
        );
    }

    #[test]
    fn every_ending_but_success_offers_a_next_step() {
        for s in [&EN, &EN_GB, &NL] {
            assert_eq!(s.next_step(Status::Verified), None);
            for st in [
                Status::Failed,
                Status::Canceled,
                Status::Expired,
                Status::Revoked,
            ] {
                let step = s.next_step(st).expect("a next step");
                assert!(step.contains("{org}"), "{step}");
            }
            for r in FailureReason::ALL {
                assert!(!s.failure(r).is_empty());
            }
        }
    }
}
