// Shared by the browser tests: the gotrace binary, corpus paths, starting
// `gotrace view` servers (all stopped on exit, failures included), the
// browsers (Debian's chromium through playwright-core, Debian's firefox-esr
// through puppeteer-core and WebDriver BiDi), and a tiny test runner.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../../..');
const bin = process.env.GOTRACE_BIN ? path.resolve(root, process.env.GOTRACE_BIN) : path.join(process.env.CARGO_TARGET_DIR || path.join(root, 'target'), 'debug/gotrace');
export const shots = path.join(root, 'target/view-e2e');
mkdirSync(shots, { recursive: true });
export const corpus = (n) => path.join(root, 'corpus/traces/go1.27', n);

const servers = [];
process.on('exit', () => { for (const p of servers) p.kill(); });

// Starts `gotrace view` on a trace; resolves with its URL once printed.
export function serve(trace) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, ['view', '--no-browser', '--http', '127.0.0.1:0', trace], { stdio: ['ignore', 'pipe', 'pipe'] });
    servers.push(p);
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/[\d.:]+/);
      if (m) resolve({ url: m[0], proc: p });
    });
    p.stderr.on('data', (d) => { if (process.env.VERBOSE) process.stderr.write(d); });
    p.on('exit', (c) => reject(new Error(`gotrace exited ${c}: ${out}`)));
  });
}

export const launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

// Firefox (firefox.mjs): puppeteer-core over WebDriver BiDi, a fresh profile
// each launch (puppeteer's own), no network but loopback.
export async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
    headless: true,
    defaultViewport: { width: 1400, height: 900, deviceScaleFactor: 1 },
    protocolTimeout: 60000,
    env: { ...process.env, MOZ_HEADLESS: '1' },
    extraPrefsFirefox: {
      'network.connectivity-service.enabled': false,
      'network.captive-portal-service.enabled': false,
      'browser.safebrowsing.update.enabled': false,
      'app.update.enabled': false,
      'extensions.update.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'browser.newtabpage.enabled': false,
      'browser.startup.page': 0,
    },
  });
}

let failures = 0;
export async function test(name, fn) {
  const t = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

// Closes the browser and exits with the tests' verdict.
export async function finish(browser) {
  await browser.close();
  console.log(failures ? `${failures} failed` : 'all passed');
  process.exit(failures ? 1 : 0);
}
