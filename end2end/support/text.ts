// What the customer should read, per language, as the design promises it.
// Kept here (not read from the product) so a changed text is a failed test.
import type { FinalStatus, Outcome } from './fixtures';

export type Language = 'en' | 'nl';

export interface Text {
  heading: (org: string) => string;
  testNote: RegExp;
  reference: string;
  whatShared: string;
  why: string;
  olderThan18: string;
  email: string;
  optional: string;
  purpose: string;
  scanHeading: string;
  qrLabel: string;
  openWallet: string;
  waiting: string;
  pending: RegExp;
  checkStatus: string;
  testPanel: string;
  outcomes: Record<Outcome, string>;
  cancel: string;
  finalHeading: Record<FinalStatus, string>;
  returnTo: (org: string) => string;
  notFound: string;
}

export const TEXT: Record<Language, Text> = {
  en: {
    heading: (org) => `${org} would like to verify you`,
    testNote: /^Test mode/,
    reference: 'Reference',
    whatShared: 'What you will share',
    why: 'Why',
    olderThan18: 'That you are older than 18',
    email: 'Your email address',
    optional: 'optional',
    purpose: 'To check your age.',
    scanHeading: 'Scan with your wallet app',
    qrLabel: 'QR code to scan with your wallet app',
    openWallet: 'Open wallet app',
    waiting: 'Waiting for you to share with your wallet app.',
    pending: /wallet is connected/i,
    checkStatus: 'Check status',
    testPanel: 'Test mode: choose an outcome',
    outcomes: { verified: 'Verified', failed: 'Failed', canceled: 'Canceled', expired: 'Expired' },
    cancel: 'Cancel',
    finalHeading: {
      verified: 'Verification complete',
      failed: 'Verification failed',
      canceled: 'Identification canceled',
      expired: 'Identification expired',
      revoked: 'Identification withdrawn',
    },
    returnTo: (org) => `Return to ${org}`,
    notFound: 'Page not found',
  },
  nl: {
    heading: (org) => `${org} wil je graag verifiëren`,
    testNote: /^Testmodus/,
    reference: 'Kenmerk',
    whatShared: 'Wat je deelt',
    why: 'Waarom',
    olderThan18: 'Dat je ouder bent dan 18',
    email: 'Je e-mailadres',
    optional: 'optioneel',
    purpose: 'Om je leeftijd te controleren.',
    scanHeading: 'Scan met je wallet-app',
    qrLabel: 'QR-code om te scannen met je wallet-app',
    openWallet: 'Open wallet-app',
    waiting: 'We wachten tot je deelt met je wallet-app.',
    pending: /wallet is verbonden/i,
    checkStatus: 'Status controleren',
    testPanel: 'Testmodus: kies een uitkomst',
    outcomes: { verified: 'Geverifieerd', failed: 'Mislukt', canceled: 'Geannuleerd', expired: 'Verlopen' },
    cancel: 'Annuleren',
    finalHeading: {
      verified: 'Verificatie voltooid',
      failed: 'Verificatie mislukt',
      canceled: 'Identificatie geannuleerd',
      expired: 'Identificatie verlopen',
      revoked: 'Identificatie ingetrokken',
    },
    returnTo: (org) => `Terug naar ${org}`,
    notFound: 'Pagina niet gevonden',
  },
};

/** The identification locale that makes MyPage speak a language. */
export const LOCALE: Record<Language, string> = { en: 'en_GB', nl: 'nl_NL' };
/** The `<html lang>` that locale gives. */
export const HTML_LANG: Record<Language, string> = { en: 'en-GB', nl: 'nl-NL' };

export const OUTCOMES: Outcome[] = ['verified', 'failed', 'canceled', 'expired'];
export const FINAL_STATUSES: FinalStatus[] = [...OUTCOMES, 'revoked'];
export const LANGUAGES: Language[] = ['en', 'nl'];
