// Light and dark follow the system; the QR code is dark on white in both; the
// keyboard focus ring stands out (at least 3:1) on every background it meets.
// The measuring runs as script in the page, so these run with JavaScript on;
// the stylesheet is the same without it.
import type { Page } from '@playwright/test';
import { test, expect, type Integrator } from '../support/fixtures';
import { TEXT } from '../support/text';

const SCHEMES = ['light', 'dark'] as const;

/** Colour helpers, run in the page (they travel as source text). */
const COLOUR_HELPERS = `
  window.__rgb = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r, g, b, a: a === undefined ? 1 : a };
  };
  window.__luminance = (c) => {
    const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
  };
  window.__contrast = (a, b) => {
    const [x, y] = [window.__luminance(a), window.__luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  window.__backgroundBehind = (el) => {
    for (let e = el.parentElement; e; e = e.parentElement) {
      const c = window.__rgb(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c;
    }
    return window.__rgb(getComputedStyle(document.documentElement).backgroundColor) ?? { r: 255, g: 255, b: 255, a: 1 };
  };
`;

async function installHelpers(page: Page) {
  await page.addInitScript(COLOUR_HELPERS);
}

async function luminanceOf(page: Page, selector: string, property: 'backgroundColor' | 'color') {
  return page.locator(selector).first().evaluate(
    (el, prop) => (window as any).__luminance((window as any).__rgb(getComputedStyle(el)[prop])),
    property,
  );
}

for (const scheme of SCHEMES) {
  test.describe(`${scheme} colour scheme`, () => {
    test.use({ colorScheme: scheme });

    test(`the page follows the system's ${scheme} scheme and the QR code stays dark on white @needs-js`, async ({ page, integrator, isMobile }) => {
      await installHelpers(page);
      const ident = await integrator.create();
      await page.goto(ident.path);
      if (isMobile) await page.getByText(TEXT.en.showQr).click();

      const page_ = await luminanceOf(page, 'body', 'backgroundColor');
      const ink = await luminanceOf(page, 'h1', 'color');
      if (scheme === 'dark') {
        expect(page_).toBeLessThan(0.05);
        expect(ink).toBeGreaterThan(0.7);
      } else {
        expect(page_).toBeGreaterThan(0.8);
        expect(ink).toBeLessThan(0.05);
      }
      const qr = page.getByRole('img', { name: TEXT.en.qrLabel });
      await expect(qr).toBeVisible();
      const colours = await qr.evaluate((el) => {
        const w = window as any;
        const rect = el.querySelector('svg rect')!;
        const path = el.querySelector('svg path')!;
        return {
          frame: w.__luminance(w.__rgb(getComputedStyle(el).backgroundColor)),
          paper: w.__luminance(w.__rgb(getComputedStyle(rect).fill)),
          ink: w.__luminance(w.__rgb(getComputedStyle(path).fill)),
        };
      });
      expect(colours.frame).toBe(1);
      expect(colours.paper).toBe(1);
      expect((colours.paper + 0.05) / (colours.ink + 0.05)).toBeGreaterThan(15);
    });

    const pages: { name: string; open: (i: Integrator) => Promise<string> }[] = [
      { name: 'an open test identification', open: async (i) => (await i.create()).path },
      {
        name: 'a pending identification',
        open: async (i) => {
          const c = await i.create();
          await i.testOutcome(c.id, 'pending');
          return c.path;
        },
      },
      { name: 'the cancel confirmation', open: async (i) => `${(await i.create()).path}/cancel` },
      {
        name: 'a failed identification',
        open: async (i) => {
          const c = await i.create();
          await i.testOutcome(c.id, 'failed');
          return c.path;
        },
      },
    ];

    for (const p of pages) {
      test(`every focus ring on ${p.name} stands out at least 3:1 (${scheme}) @needs-js`, async ({ page, integrator }) => {
        await installHelpers(page);
        await page.goto(await p.open(integrator));
        await expect(page.getByRole('heading', { level: 1 })).toBeVisible();

        const rings: { key: string; what: string; style: string; width: number; contrast: number }[] = [];
        for (let i = 0; i < 40; i++) {
          await page.keyboard.press('Tab');
          const ring = await page.evaluate(() => {
            const el = document.activeElement as HTMLElement | null;
            if (!el || el === document.body) return null;
            const w = window as any;
            const s = getComputedStyle(el);
            const colour = w.__rgb(s.outlineColor);
            return {
              key: el.outerHTML.slice(0, 80),
              what: `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 40)}"`,
              style: s.outlineStyle,
              width: parseFloat(s.outlineWidth),
              contrast: colour ? w.__contrast(colour, w.__backgroundBehind(el)) : 0,
            };
          });
          if (!ring) continue;
          // Round the page once.
          if (rings.length > 0 && rings[0].key === ring.key) break;
          rings.push(ring);
        }

        expect(rings.length, 'focusable elements reached by Tab').toBeGreaterThan(1);
        for (const r of rings) {
          expect(r.style, r.what).not.toBe('none');
          expect(r.width, r.what).toBeGreaterThanOrEqual(2);
          expect(r.contrast, r.what).toBeGreaterThanOrEqual(3);
        }
      });
    }
  });
}
