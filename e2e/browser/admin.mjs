// The admin pages of a running `hotline serve`, driven in headless Chromium
// (Debian's /usr/bin/chromium) with playwright-core, as a member of staff
// would use them. e2e/browser_test.go places the calls first, runs this
// script, and checks afterwards that the teaching done here took effect.
//
//   HOTLINE_URL            base URL of the admin pages, e.g. http://127.0.0.1:8080
//   HOTLINE_USER           user name (admin.users)
//   HOTLINE_PASSWORD       its password
//   HOTLINE_OUT            folder for the screenshots (NN-page.png) and weights.json
//   HOTLINE_CALLS          call IDs the calls list must show, comma-separated
//   HOTLINE_KEY_CALL       the call that reached an intent by key (outcome resolved, path …>INTENT)
//   HOTLINE_KEY_INTENT     that intent
//   HOTLINE_XSS_CALL       the call whose caller said HOTLINE_XSS_TEXT
//   HOTLINE_XSS_TEXT       a transcript with <script> and "quotes": must show as text
//   HOTLINE_TEACH_TEXT     the unanswered question to assign
//   HOTLINE_TEACH_INTENT   the intent to assign it to
//   HOTLINE_CHROMIUM       the browser (default /usr/bin/chromium)
//
// It exits 0 when every check passed, and 1 with "admin.mjs: FAILED at STEP:
// WHY" (and a screenshot FAILED-STEP.png of the page as it was) otherwise.
// Only the hooks documented in web/README.md ("Test hooks for browser tests")
// are used to find things on the pages.

import { chromium } from 'playwright-core';
import fs from 'node:fs/promises';
import path from 'node:path';

function env(name, fallback) {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') {
    console.error(`admin.mjs: the environment variable ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const base = env('HOTLINE_URL').replace(/\/$/, '');
const user = env('HOTLINE_USER');
const password = env('HOTLINE_PASSWORD');
const out = env('HOTLINE_OUT');
const calls = env('HOTLINE_CALLS').split(',').filter(Boolean);
const keyCall = env('HOTLINE_KEY_CALL');
const keyIntent = env('HOTLINE_KEY_INTENT');
const xssCall = env('HOTLINE_XSS_CALL');
const xssText = env('HOTLINE_XSS_TEXT');
const teachText = env('HOTLINE_TEACH_TEXT');
const teachIntent = env('HOTLINE_TEACH_INTENT');
const executablePath = env('HOTLINE_CHROMIUM', '/usr/bin/chromium');

const T = (sel) => `[data-test="${sel}"]`;
const started = Date.now();
const weights = [];
const problems = []; // seen on any page: dialogs, page errors, CSP violations, failed requests
const expectedAborts = new Set(); // path?query of requests the script itself stops
let page;
let current = 'launch';
let failedOn = '';

class Failure extends Error {}
function check(ok, why) {
  if (!ok) throw new Failure(why);
}

async function step(name, fn) {
  current = name;
  const t0 = Date.now();
  await fn();
  console.log(`ok   ${name} (${Date.now() - t0} ms)`);
}

// onPage waits for the page whose <body data-page> is name.
async function onPage(name) {
  await page.waitForSelector(`body[data-page="${name}"]`, { timeout: 10000 });
  await page.waitForLoadState('load');
}

// weigh records what the page loaded up to its load event: the document and
// every sub-resource, as transferred (the browser's cache in use, as when a
// person goes from page to page) and as encoded bodies (a first visit).
async function weigh(name) {
  const w = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const entries = [nav, ...performance.getEntriesByType('resource')].filter(Boolean);
    const byType = {};
    let transfer = 0, encoded = 0, decoded = 0;
    for (const e of entries) {
      const kind = e.entryType === 'navigation' ? 'document' : e.initiatorType;
      const t = (byType[kind] ??= { requests: 0, transfer: 0, encoded: 0 });
      t.requests++;
      t.transfer += e.transferSize;
      t.encoded += e.encodedBodySize;
      transfer += e.transferSize;
      encoded += e.encodedBodySize;
      decoded += e.decodedBodySize;
    }
    return {
      path: location.pathname + location.search,
      status: nav ? nav.responseStatus : 0,
      requests: entries.length,
      transferBytes: transfer,
      encodedBytes: encoded,
      decodedBytes: decoded,
      loadMs: nav ? Math.round(nav.loadEventEnd - nav.startTime) : 0,
      byType,
      resources: entries.map((e) => ({
        url: new URL(e.name).pathname,
        type: e.entryType === 'navigation' ? 'document' : e.initiatorType,
        transfer: e.transferSize,
        encoded: e.encodedBodySize,
      })),
    };
  });
  weights.push({ page: name, ...w });
  console.log(`     ${name}: ${w.path} status ${w.status}, ${w.requests} requests, ${w.transferBytes} bytes transferred, ${w.encodedBytes} bytes of bodies`);
  check(w.status === 200, `${name}: the page answered ${w.status}`);
}

let shot = 0;
async function screenshot(name) {
  const file = path.join(out, `${String(shot++).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`     screenshot ${file}`);
}

// fetchFile fetches a URL from the page, with its session cookie, and
// describes the answer.
async function fetchFile(url) {
  return page.evaluate(async (u) => {
    const res = await fetch(u, { credentials: 'same-origin' });
    const b = new Uint8Array(await res.arrayBuffer());
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      bytes: b.length,
      magic: String.fromCharCode(...b.slice(0, 4)) + '/' + String.fromCharCode(...b.slice(8, 12)),
    };
  }, url);
}

function checkWAV(what, r) {
  check(r.status === 200 && r.type === 'audio/wav' && r.magic === 'RIFF/WAVE' && r.bytes > 44,
    `${what}: ${r.status} ${r.type}, ${r.bytes} bytes starting ${JSON.stringify(r.magic)}; want 200 audio/wav, a RIFF/WAVE file with data`);
}

async function nav(link, name) {
  await page.click(`${T('nav')} ${T(link)}`);
  await onPage(name);
}

async function main() {
  await fs.mkdir(out, { recursive: true });
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // Playwright starts the browser with a new, empty --user-data-dir of its
    // own and removes it afterwards. Without the background-networking flags
    // Chromium tries to reach Google's hosts, which this machine refuses.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    timeout: 30000,
  });
  try {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      deviceScaleFactor: 1,
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
    // An injected script would call alert: it is caught here, and as a dialog below.
    await context.addInitScript(() => {
      window.__xss = [];
      window.alert = (m) => { window.__xss.push(String(m)); };
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
      });
    });
    page = await context.newPage();
    page.setDefaultTimeout(10000);
    page.on('dialog', async (d) => {
      problems.push(`a ${d.type()} dialog opened on ${page.url()}: ${JSON.stringify(d.message())}`);
      await d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error on ${page.url()}: ${m.text()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.request().method()} ${r.url()} answered ${r.status()}`);
    });
    page.on('requestfailed', (r) => {
      // A media element may abort its own range request once it has the
      // metadata; a fetch with redirect: 'manual' (below) stops at the redirect.
      const u = new URL(r.url());
      if (r.resourceType() === 'media' || expectedAborts.has(u.pathname + u.search)) return;
      problems.push(`${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`);
    });

    await step('login', async () => {
      await page.goto(base + '/');
      await onPage('login');
      check(new URL(page.url()).pathname === '/login', `/ without a session went to ${page.url()}, want /login`);
      await weigh('login');
      await screenshot('login');
      await page.fill(T('login-user'), user);
      await page.fill(T('login-password'), password);
      await page.click(T('login-submit'));
      await onPage('dashboard');
      check((await page.textContent(T('user'))).trim() === user, `the page header does not name the user ${user}`);
    });

    await step('dashboard', async () => {
      await weigh('dashboard');
      const today = Number((await page.textContent(T('today-calls-count'))).replace(/\D/g, ''));
      check(today >= calls.length, `the dashboard counts ${today} calls today, want at least ${calls.length}`);
      const bars = await page.$$eval(`${T('hour-bar')}`, (gs) => gs.reduce((n, g) => n + Number(g.dataset.count), 0));
      check(bars >= calls.length, `the calls-per-hour chart adds up to ${bars}, want at least ${calls.length}`);
      check(await page.isVisible(T('live-table')), 'no live calls panel');
      check(await page.isVisible(`${T('top-unanswered')}`), 'no top unanswered questions panel');
      const top = await page.$$eval(T('top-unanswered-row'), (rows) => rows.map((r) => r.textContent));
      check(top.some((t) => t.includes(teachText)), `the top unanswered questions do not show "${teachText}": ${JSON.stringify(top)}`);
      check(top.some((t) => t.includes(xssText)), `the top unanswered questions do not show the <script> text as text: ${JSON.stringify(top)}`);
      await screenshot('dashboard');
    });

    await step('calls', async () => {
      await nav('nav-calls', 'calls');
      await weigh('calls');
      const total = Number(await page.getAttribute(T('calls-total'), 'data-total'));
      check(total === calls.length, `calls-total says ${total}, want ${calls.length}`);
      for (const id of calls) {
        check(await page.isVisible(`${T('calls-table')} ${T('call-row')}[data-call-id="${id}"]`), `the calls list has no row for call ${id}`);
      }
      const outcome = await page.getAttribute(`${T('call-row')}[data-call-id="${keyCall}"]`, 'data-outcome');
      check(outcome === 'resolved', `the key call ${keyCall} is listed as ${outcome}, want resolved`);
      await screenshot('calls');
    });

    await step('call', async () => {
      // The call whose caller "said" a <script>: opened from the list.
      await page.click(`${T('call-row')}[data-call-id="${xssCall}"] ${T('call-link')}`);
      await onPage('call');
      await weigh('call');
      check(await page.getAttribute(T('call-header'), 'data-call-id') === xssCall, 'the call page shows another call');
      const texts = await page.$$eval(`${T('transcript')} ${T('turn-text')}`, (es) => es.map((e) => e.textContent));
      check(texts.some((t) => t.includes(xssText)),
        `no turn of the transcript shows the caller's words as text ${JSON.stringify(xssText)}: ${JSON.stringify(texts)}`);
      const injected = await page.evaluate(() => ({
        inlineScripts: [...document.scripts].filter((s) => !s.src).length,
        transcriptElements: [...document.querySelectorAll('[data-test="transcript"] script, [data-test="transcript"] img, [data-test="transcript"] b')].length,
        alerts: window.__xss,
      }));
      check(injected.inlineScripts === 0 && injected.transcriptElements === 0 && injected.alerts.length === 0,
        `the transcript was not escaped: ${JSON.stringify(injected)}`);
      // The HTML as served carries the text escaped.
      const html = await page.evaluate(async () => (await fetch(location.href, { credentials: 'same-origin' })).text());
      check(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the served HTML does not carry &lt;script&gt;alert(1)&lt;/script&gt;');
      check(!html.includes('<script>alert(1)'), 'the served HTML carries <script>alert(1) unescaped');

      // The recording: the player's URL answers a WAV file to this session,
      // and the player reads its length.
      const src = await page.getAttribute(T('audio'), 'src');
      check(src, 'the call has no <audio> recording player');
      checkWAV(`the recording ${src}`, await fetchFile(src));
      // Without the session cookie the recording is not served: the login page instead.
      expectedAborts.add(`/login?next=${encodeURIComponent(src)}`);
      const anon = await page.evaluate(async (u) => {
        const r = await fetch(u, { credentials: 'omit', redirect: 'manual' });
        return { type: r.type, status: r.status };
      }, src);
      check(anon.type === 'opaqueredirect' || anon.status === 401 || anon.status === 403,
        `the recording without a session answered ${anon.status} (${anon.type}), want a redirect to the login page`);
      const duration = await page.evaluate(async () => {
        const a = document.querySelector('[data-test="audio"]');
        if (!(a.readyState >= 1)) {
          await new Promise((resolve, reject) => {
            a.addEventListener('loadedmetadata', resolve, { once: true });
            a.addEventListener('error', () => reject(new Error(`media error ${a.error && a.error.code}: ${a.error && a.error.message}`)), { once: true });
            if (a.networkState === HTMLMediaElement.NETWORK_EMPTY || a.preload === 'none') a.load();
          });
        }
        return a.duration;
      });
      check(duration > 1, `the recording player reads a duration of ${duration} s`);
      console.log(`     recording ${src}: the player reads ${duration.toFixed(2)} s`);
      await screenshot('call');
    });

    await step('call by key', async () => {
      await page.goto(`${base}/calls/${encodeURIComponent(keyCall)}`);
      await onPage('call');
      check(await page.getAttribute(T('call-header'), 'data-outcome') === 'resolved', 'the key call is not resolved');
      const pathText = (await page.textContent(T('call-path'))).replace(/\s+/g, ' ');
      check(pathText.includes(keyIntent), `the key call's path is "${pathText}", want it to reach ${keyIntent}`);
      const keys = await page.$$eval(`${T('turn')}[data-speaker="caller"] kbd`, (ks) => ks.map((k) => k.textContent));
      check(keys.length > 0, 'the key call shows no key pressed by the caller');
    });

    let groupID;
    await step('unanswered', async () => {
      await nav('nav-unanswered', 'unanswered');
      await weigh('unanswered');
      const rows = await page.$$eval(T('group-row'), (rs) => rs.map((r) => ({
        id: r.dataset.groupId, status: r.dataset.status, text: r.querySelector('[data-test="group-link"]').textContent,
      })));
      const teach = rows.find((r) => r.text.trim() === teachText);
      check(teach && teach.status === 'open', `the inbox has no open question "${teachText}": ${JSON.stringify(rows)}`);
      check(rows.some((r) => r.text.includes(xssText)), `the inbox does not show the <script> question as text: ${JSON.stringify(rows)}`);
      groupID = teach.id;
      await screenshot('unanswered');
    });

    await step('assign', async () => {
      await page.click(`${T('group-row')}[data-group-id="${groupID}"] ${T('group-link')}`);
      await onPage('group');
      await weigh('group');
      const q = await page.$$eval(T('question-text'), (es) => es.map((e) => e.textContent.trim()));
      check(q.includes(teachText), `the group's questions are ${JSON.stringify(q)}`);
      const snippet = await page.getAttribute(T('snippet-audio'), 'src');
      check(snippet, 'the question has no audio snippet');
      checkWAV(`the snippet ${snippet}`, await fetchFile(snippet));
      check(await page.isVisible(T('assign-form')) && await page.isVisible(T('answer-form')) && await page.isVisible(T('ignore-form')),
        'the open group does not offer the assign, answer and ignore forms');
      await screenshot('group');
      await page.selectOption(T('assign-intent'), teachIntent);
      await page.check(T('assign-as-example'));
      check(await page.inputValue(T('assign-phrase')) === teachText, 'the phrase field is not the question');
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/unanswered/${groupID}/assign`),
        page.click(T('assign-submit')),
      ]);
      const status = res.headers()['x-hotline-status'] || String(res.status());
      const result = page.locator(`${T('action-result')}`);
      await result.waitFor();
      const ok = await result.getAttribute('data-ok');
      check(ok === 'true' && status === '200', `assigning answered ${status}: ${(await result.textContent()).trim()}`);
      await page.waitForSelector(T('reload-ok'));
      check(await page.getAttribute(T('group-facts'), 'data-status') === 'assigned', 'the group is not shown as assigned');
      check(await page.isVisible(T('assigned-note')), 'no note that the group is assigned');
      await screenshot('group-assigned');
    });

    await step('script', async () => {
      await nav('nav-script', 'script');
      await weigh('script');
      check(await page.isVisible(`${T('flow-graph')} svg`), 'no flow picture');
      const intents = await page.$$eval(T('intent-row'), (rs) => rs.map((r) => r.dataset.intent));
      check(intents.includes(teachIntent), `the intents table has ${JSON.stringify(intents)}, no ${teachIntent}`);
      const reloads = await page.$$eval(T('reload-row'), (rs) => rs.map((r) => ({ ok: r.dataset.ok, text: r.textContent })));
      check(reloads.some((r) => r.ok === 'true' && r.text.includes('admin')), `no successful reload by the admin pages in ${JSON.stringify(reloads)}`);
      await screenshot('script');
    });

    await step('health', async () => {
      await nav('nav-health', 'health');
      await weigh('health');
      const status = await page.getAttribute(T('health'), 'data-status');
      check(status === 'ok', `health says ${status}`);
      await screenshot('health');
    });

    await step('dashboard in Chinese', async () => {
      await nav('nav-dashboard', 'dashboard');
      await page.click(T('lang-zh'));
      await onPage('dashboard');
      const lang = await page.getAttribute('html', 'lang');
      check(lang && lang.startsWith('zh'), `after the switch to Chinese the page is lang=${lang}`);
      check(await page.getAttribute(T('lang-zh'), 'aria-current') === 'true', 'the language switch does not mark 中文 as current');
      await screenshot('dashboard-zh');
      await page.click(T('lang-en'));
      await onPage('dashboard');
      check((await page.getAttribute('html', 'lang')).startsWith('en'), 'the switch back to English did not take');
    });

    current = 'problems seen on the pages';
    check(problems.length === 0, problems.join('\n'));
  } catch (e) {
    if (page && !page.isClosed()) {
      const file = path.join(out, `FAILED-${current.replace(/[^a-z0-9]+/gi, '-')}.png`);
      await page.screenshot({ path: file, fullPage: true }).then(() => console.error(`     screenshot of the page: ${file}`), () => {});
      failedOn = page.url();
    }
    throw e;
  } finally {
    await fs.writeFile(path.join(out, 'weights.json'), JSON.stringify({ pages: weights }, null, 2) + '\n');
    await browser.close();
  }
}

try {
  await main();
  console.log(`admin.mjs: all checks passed in ${Date.now() - started} ms`);
} catch (e) {
  console.error(`admin.mjs: FAILED at ${current}: ${e instanceof Failure ? e.message : e.stack || e}`);
  if (failedOn) console.error(`     on ${failedOn}`);
  if (problems.length) console.error(`     also seen:\n${problems.join('\n')}`);
  process.exit(1);
}
