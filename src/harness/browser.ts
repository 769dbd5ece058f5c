import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { ConfigError } from '../core/errors.js';

/** Debian's chromium unless CALLPOOL_CHROMIUM names another; a browser is never downloaded. */
export function chromiumPath(): string {
  return process.env['CALLPOOL_CHROMIUM'] || '/usr/bin/chromium';
}

/** Flags for a quiet, offline headless run: no GPU, no QUIC, no first-run or background traffic. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts the system chromium through playwright-core (a dev dependency; `--screenshot` needs it
 * installed) with a fresh profile that is removed on close.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new ConfigError('--screenshot', [{ path: 'chromium', rule: 'installed', message: `no chromium at ${executablePath} (install Debian's chromium package, or set CALLPOOL_CHROMIUM)` }]);
  }
  let pw: typeof import('playwright-core');
  try {
    pw = await import('playwright-core');
  } catch (err) {
    throw new ConfigError('--screenshot', [{ path: 'playwright-core', rule: 'installed', message: 'needs the playwright-core package: npm install playwright-core' }], { cause: err });
  }
  const profile = mkdtempSync(join(tmpdir(), 'callpool-chromium-'));
  const context = await pw.chromium.launchPersistentContext(profile, { executablePath, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1400, height: 900 } });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Writes a full-page PNG of an HTML report as it renders `width` pixels wide, with every network request refused. */
export async function screenshotReport(htmlFile: string, pngFile: string, width = 1400): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
    await page.setViewportSize({ width, height: 900 });
    await page.goto(pathToFileURL(htmlFile).href);
    await page.screenshot({ path: pngFile, fullPage: true });
  } finally {
    await browser.close();
  }
}
