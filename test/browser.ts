import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { expect, it } from 'vitest';

/**
 * Debian's chromium (apt-get install chromium); CHROMIUM_PATH overrides. Without it a browser test
 * is skipped with its reason printed, unless SELFSUP_REQUIRE_BROWSER=1 (.ci/run sets it after
 * installing chromium): then it fails.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** `it` where the browser is there or required, else `it.skip` with `what` printed as skipped. */
export function browserTest(what: string): typeof it | typeof it.skip {
  if (fs.existsSync(CHROMIUM) || process.env.SELFSUP_REQUIRE_BROWSER === '1') return it;
  console.warn(`${what} is skipped: ${CHROMIUM} not found (apt-get install chromium)`);
  return it.skip;
}

/**
 * Headless Chromium with no background traffic (its requests are the page's own). GPU off, unless
 * `webgpu`: then WebGPU is on, which headless Chromium without a GPU serves from SwiftShader, its
 * software adapter (slow, but the same WGSL programs a GPU runs).
 */
export async function launchChromium(opts: { webgpu?: boolean } = {}): Promise<Browser> {
  expect(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: apt-get install chromium (or set CHROMIUM_PATH)`).toBe(true);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      opts.webgpu ? '--enable-unsafe-webgpu' : '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
