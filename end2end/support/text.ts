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
  walletHeading: string;
  qrLabel: string;
  /** The phone's wallet button. */
  openWallet: string;
  /** The desktop's quieter wallet link. */
  openWalletHere: string;
  /** The browser's own wallet chooser (the Digital Credentials API). */
  useWalletOnDevice: string;
  /** What the page says when the browser's sheet closed without an answer. */
  deviceWalletClosed: string;
  /** ... and when the answer was refused. */
  deviceWalletFailed: string;
  showQr: string;
  noWallet: string;
  walletHelp: RegExp;
  waiting: string;
  pending: RegExp;
  pendingHeading: string;
  /** The name of the list of steps. */
  progress: string;
  reopenWallet: string;
  checkStatus: string;
  testPanel: string;
  outcomes: Record<Outcome, string>;
  cancel: string;
  cancelTitle: string;
  cancelYes: string;
  cancelKeep: string;
  finalHeading: Record<FinalStatus, string>;
  /** What to do next, after every ending but success. */
  nextStep: (org: string) => RegExp;
  returnTo: (org: string) => string;
  notFound: string;
  notFoundText: string;
  /** The other language's name, as the switch shows it. */
  languageName: string;
}

export const TEXT: Record<Language, Text> = {
  en: {
    heading: (org) => `${org} would like to verify you`,
    testNote: /^Test mode/,
    reference: 'Reference',
    whatShared: 'What you will share',
    why: 'Why',
    olderThan18: '18 or older',
    email: 'Email address',
    optional: 'optional',
    purpose: 'To check your age.',
    walletHeading: 'Share with your wallet app',
    qrLabel: 'QR code to scan with your wallet app',
    openWallet: 'Open wallet app',
    openWalletHere: 'Wallet on this computer? Open it',
    useWalletOnDevice: 'Use a wallet on this device',
    deviceWalletClosed: 'No wallet was chosen. You can try again, or use the QR code or the link.',
    deviceWalletFailed: 'That did not work. You can try again, or use the QR code or the link.',
    showQr: 'Use another device? Show QR code',
    noWallet: "Don't have a wallet app?",
    walletHelp: /wallet app with your digital ID/,
    waiting: 'Waiting for you to share with your wallet app.',
    pending: /wallet is connected/i,
    pendingHeading: 'Continue in your wallet app',
    progress: 'Progress',
    reopenWallet: 'Wallet app closed? Open it again',
    checkStatus: 'Check status',
    testPanel: 'Test mode: choose an outcome',
    // British English (the locale en_GB): "Cancelled".
    outcomes: { verified: 'Verified', failed: 'Failed', canceled: 'Cancelled', expired: 'Expired' },
    cancel: 'Cancel',
    cancelTitle: 'Cancel this identification?',
    cancelYes: 'Yes, cancel',
    cancelKeep: 'Keep going',
    finalHeading: {
      verified: 'Verification complete',
      failed: 'Verification failed',
      canceled: 'Identification cancelled',
      expired: 'Identification expired',
      revoked: 'Identification withdrawn',
    },
    nextStep: (org) => new RegExp(`ask ${org} for a new link`, 'i'),
    returnTo: (org) => `Return to ${org}`,
    notFound: 'Page not found',
    notFoundText: 'This identification link is not valid. Check the link, or ask the organisation that sent you for a new one.',
    languageName: 'English',
  },
  nl: {
    heading: (org) => `${org} wil je graag verifiëren`,
    testNote: /^Testmodus/,
    reference: 'Kenmerk',
    whatShared: 'Wat je deelt',
    why: 'Waarom',
    olderThan18: '18 jaar of ouder',
    email: 'E-mailadres',
    optional: 'optioneel',
    purpose: 'Om je leeftijd te controleren.',
    walletHeading: 'Deel met je wallet-app',
    qrLabel: 'QR-code om te scannen met je wallet-app',
    openWallet: 'Open wallet-app',
    openWalletHere: 'Wallet op deze computer? Open hem',
    useWalletOnDevice: 'Gebruik een wallet op dit apparaat',
    deviceWalletClosed: 'Er is geen wallet gekozen. Probeer het opnieuw, of gebruik de QR-code of de link.',
    deviceWalletFailed: 'Dat lukte niet. Probeer het opnieuw, of gebruik de QR-code of de link.',
    showQr: 'Ander apparaat? Toon QR-code',
    noWallet: 'Geen wallet-app?',
    walletHelp: /wallet-app met je digitale identiteit/,
    waiting: 'We wachten tot je deelt met je wallet-app.',
    pending: /wallet is verbonden/i,
    pendingHeading: 'Ga verder in je wallet-app',
    progress: 'Voortgang',
    reopenWallet: 'Wallet-app gesloten? Open hem opnieuw',
    checkStatus: 'Status controleren',
    testPanel: 'Testmodus: kies een uitkomst',
    outcomes: { verified: 'Geverifieerd', failed: 'Mislukt', canceled: 'Geannuleerd', expired: 'Verlopen' },
    cancel: 'Annuleren',
    cancelTitle: 'Deze identificatie annuleren?',
    cancelYes: 'Ja, annuleren',
    cancelKeep: 'Doorgaan',
    finalHeading: {
      verified: 'Verificatie voltooid',
      failed: 'Verificatie mislukt',
      canceled: 'Identificatie geannuleerd',
      expired: 'Identificatie verlopen',
      revoked: 'Identificatie ingetrokken',
    },
    nextStep: (org) => new RegExp(`vraag ${org} om een nieuwe link`, 'i'),
    returnTo: (org) => `Terug naar ${org}`,
    notFound: 'Pagina niet gevonden',
    notFoundText: 'Deze identificatielink werkt niet. Controleer de link, of vraag de organisatie die je hierheen stuurde om een nieuwe link.',
    languageName: 'Nederlands',
  },
};

/** The identification locale that makes MyPage speak a language. */
export const LOCALE: Record<Language, string> = { en: 'en_GB', nl: 'nl_NL' };
/** The `<html lang>` that locale gives. */
export const HTML_LANG: Record<Language, string> = { en: 'en-GB', nl: 'nl-NL' };

export const OUTCOMES: Outcome[] = ['verified', 'failed', 'canceled', 'expired'];
export const FINAL_STATUSES: FinalStatus[] = [...OUTCOMES, 'revoked'];
export const LANGUAGES: Language[] = ['en', 'nl'];
