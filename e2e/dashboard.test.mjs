// The dashboard and framework pages in a real browser: Debian's chromium driven by
// playwright-core, with axe-core accessibility checks. Starts `iip demo` on a free port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = process.env.IIP_BIN ?? join(root, 'target', 'debug', 'iip');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

let server, baseUrl, browser, workDir;
/** Demo accounts printed by `iip demo`: email → password. */
const accounts = {};

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'iip-e2e-'));
  server = spawn(bin, ['demo', '--dir', workDir, '--participants', '1500', '--addr', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  baseUrl = await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${seen}`)), 120_000);
    server.stdout.on('data', (chunk) => {
      seen += chunk;
      for (const m of seen.matchAll(/^\s+\w+\s+(\S+@demo\.iip)\s+(\S+)$/gm)) accounts[m[1]] = m[2];
      const match = seen.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    server.on('exit', (code) => reject(new Error(`server exited with ${code}: ${seen}`)));
  });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGINT');
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Opens a page that fails the test on console errors (CSP violations among them) and on any
 * request that leaves the server under test. */
async function openPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  page.on('request', (req) => { if (!req.url().startsWith(baseUrl)) problems.push(`external request: ${req.url()}`); });
  return { page, problems };
}

/** Opens a page signed in as one of the demo accounts. */
async function signedIn(email) {
  const opened = await openPage();
  const { page } = opened;
  await page.goto(`${baseUrl}login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(accounts[email]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  return opened;
}

async function assertAccessible(page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const summary = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
  assert.deepEqual(summary, [], 'axe violations');
}

test('dashboard shows suppressed metrics, a chart and the scope switch works', async () => {
  const { page, problems } = await signedIn('state@demo.iip');
  await page.goto(baseUrl);
  await assert.doesNotReject(page.getByRole('heading', { level: 1, name: /Integration outcomes/ }).waitFor());
  const chart = page.getByRole('img', { name: /Share of participants with a milestone/ });
  assert.equal(await chart.count(), 1);
  const rows = page.locator('table.metrics tbody tr');
  assert.equal(await rows.count(), 11, 'adults served, participants, 8 elements, any milestone');
  for (const cell of await page.locator('table td').allInnerTexts()) {
    const n = Number(cell.trim());
    if (cell.trim() !== '' && Number.isInteger(n)) assert.ok(n === 0 || n >= 10, `small count shown: ${cell}`);
  }
  mkdirSync(join(root, 'target', 'e2e'), { recursive: true });
  await page.screenshot({ path: join(root, 'target', 'e2e', 'dashboard.png'), fullPage: true });
  await assertAccessible(page);

  await page.getByLabel('Scope', { exact: true }).selectOption('south-bay');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/scope=south-bay/);
  assert.match(await page.locator('h1').innerText(), /South Bay Consortium/);
  assert.deepEqual(problems, []);
});

test('framework page lists the eight elements in English and Spanish', async () => {
  const { page, problems } = await openPage();
  await page.goto(`${baseUrl}framework`);
  assert.equal(await page.locator('section.element').count(), 8);
  await page.getByRole('link', { name: 'Español' }).click();
  await page.waitForURL(/lang=es/);
  assert.equal(await page.locator('html').getAttribute('lang'), 'es');
  assert.match(await page.locator('h2#h-english').innerText(), /Dominio del idioma inglés/);
  await assertAccessible(page);
  assert.deepEqual(problems, []);
});

test('metrics page: pick a metric, a scope and a breakdown', async () => {
  const { page, problems } = await signedIn('state@demo.iip');
  await page.goto(`${baseUrl}metrics`);
  await page.getByLabel('Metric', { exact: true }).selectOption('element.civic');
  await page.getByLabel('Scope', { exact: true }).selectOption('south-bay');
  await page.getByLabel('Breakdown', { exact: true }).selectOption('gender');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/metric=element.civic.*scope=south-bay.*by=gender/);
  assert.match(await page.locator('h1').innerText(), /Civic engagement milestone/);
  const groups = await page.locator('table.metrics tbody th').allInnerTexts();
  assert.equal(groups[0], 'All');
  assert.ok(groups.includes('female') && groups.includes('male'), `groups: ${groups}`);
  assert.equal(await page.getByRole('img', { name: /Civic engagement milestone/ }).count(), 1);
  for (const cell of await page.locator('table td').allInnerTexts()) {
    const n = Number(cell.trim());
    if (cell.trim() !== '' && Number.isInteger(n)) assert.ok(n === 0 || n >= 10, `small count shown: ${cell}`);
  }
  await page.screenshot({ path: join(root, 'target', 'e2e', 'metrics.png'), fullPage: true });
  await assertAccessible(page);
  const json = await page.request.get(`${baseUrl}api/metrics?metric=element.civic&scope=south-bay&by=gender`);
  assert.equal(json.status(), 200);
  const report = await json.json();
  assert.ok(report.rows.every((r) => r.scope_id === 'south-bay'));
  assert.deepEqual(problems, []);
});

test('funding page: both formulas side by side, a weight changed, the CSV download', async () => {
  const { page, problems } = await signedIn('state@demo.iip');
  await page.goto(baseUrl);
  await page.getByRole('link', { name: 'Funding' }).click();
  await assert.doesNotReject(page.getByRole('heading', { level: 1, name: 'Funding-formula simulator' }).waitFor());
  assert.equal(await page.getByRole('img', { name: /Change against the baseline formula/ }).count(), 1);
  const allocationOf = async (name) =>
    page.locator('table.funding tbody tr', { has: page.getByRole('rowheader', { name }) }).locator('td').nth(2).innerText();
  const before = await allocationOf(/North Bay Adult Education Consortium/);
  assert.match(before, /^\$[\d,]+\.\d\d$/);
  await page.getByLabel(/Any integration milestone/).fill('30');
  await page.getByRole('button', { name: 'Recompute' }).click();
  await page.waitForURL(/w5=30/);
  assert.match(await page.locator('.weights').innerText(), /formula: 1\.5/);
  const after = await allocationOf(/North Bay Adult Education Consortium/);
  assert.notEqual(after, before, 'the allocation follows the weight');
  await page.screenshot({ path: join(root, 'target', 'e2e', 'funding.png'), fullPage: true });
  await assertAccessible(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
  const csv = await (await download.createReadStream()).toArray();
  const text = Buffer.concat(csv).toString('utf8');
  assert.match(text.split('\n')[0], /^unit_id,member_id,prior_year,baseline,allocation/);
  const north = text.split('\n').find((l) => l.startsWith('north-bay,,'));
  assert.equal(`$${Number(north.split(',')[4]).toLocaleString('en-US', { minimumFractionDigits: 2 })}`, after);
  assert.deepEqual(problems, []);
});

test('sign in, create a participant, record a milestone, and the dashboard count changes', async () => {
  const { page, problems } = await openPage();
  await page.goto(`${baseUrl}participants`);
  await page.waitForURL(/\/login\?next=/);
  assert.equal(await page.getByRole('heading', { level: 1, name: 'Sign in' }).count(), 1);
  await assertAccessible(page);
  await page.getByLabel('Email').fill('caseworker@demo.iip');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  assert.match(await page.getByRole('alert').innerText(), /do not match/);
  await page.getByLabel('Email').fill('caseworker@demo.iip');
  await page.getByLabel('Password').fill(accounts['caseworker@demo.iip']);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/participants$/);

  const adultsServed = async () => {
    await page.goto(baseUrl);
    return Number(await page.locator('tr[data-metric="adults_served"] td').first().innerText());
  };
  const before = await adultsServed();
  assert.ok(before >= 10, `the school's adults served is shown: ${before}`);

  await page.goto(`${baseUrl}participants`);
  await assertAccessible(page);
  await page.getByRole('link', { name: 'New participant' }).click();
  await page.getByLabel('Local id').fill('e2e-lan');
  await page.getByLabel('First name').fill('Lan');
  await page.getByLabel('Last name').fill('Tran');
  await page.getByLabel('Date of birth').fill('1991-04-05');
  await page.getByLabel('Primary language').fill('vi');
  await page.getByLabel('Year of arrival in the US').fill('1985');
  await assertAccessible(page);
  await page.getByRole('button', { name: 'Create participant' }).click();
  assert.match(await page.locator('.field.invalid').first().innerText(), /Year of arrival in the US is before the year of birth/);
  await page.getByLabel('Year of arrival in the US').fill('2019');
  await page.getByRole('button', { name: 'Create participant' }).click();
  await page.waitForURL(/\/participants\/e2e-lan$/);
  assert.match(await page.locator('h1').innerText(), /Lan Tran/);

  const activity = page.locator('form#activities');
  await activity.getByLabel('Program').selectOption('esl');
  await activity.getByLabel('Hours').fill('12');
  await activity.getByLabel('Element').selectOption('english');
  await activity.getByLabel('Date').fill('2024-09-10');
  await activity.getByRole('button', { name: 'Record activity' }).click();
  await page.waitForURL(/#activities$/);
  const milestone = page.locator('form#milestones');
  await milestone.getByLabel('Milestone').selectOption('civic.voter_registered');
  await milestone.getByLabel('Date').fill('2024-10-01');
  await milestone.getByRole('button', { name: 'Record milestone' }).click();
  await page.waitForURL(/#milestones$/);
  assert.match(await page.locator('#element-civic').innerText(), /2024-10-01 · Registered to vote/);
  await page.screenshot({ path: join(root, 'target', 'e2e', 'pathway.png'), fullPage: true });
  await assertAccessible(page);

  assert.equal(await adultsServed(), before + 1, 'the new participant counts at once');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login$/);
  await page.goto(`${baseUrl}participants/e2e-lan`);
  await page.waitForURL(/\/login\?next=/);
  // The refused sign-in (401) and the refused intake (422) are the only failed loads.
  assert.deepEqual(problems.filter((p) => !/status of (401|422)/.test(p)), []);
});

test('a case worker of another organization is refused that participant', async () => {
  const { page, problems } = await signedIn('caseworker2@demo.iip');
  const response = await page.goto(`${baseUrl}participants/e2e-lan`);
  assert.equal(response.status(), 404);
  assert.doesNotMatch(await page.content(), /Lan|Tran/);
  await page.goto(`${baseUrl}participants`);
  await page.getByLabel('Search by id or name').fill('Tran');
  await page.getByRole('button', { name: 'Search' }).click();
  assert.doesNotMatch(page.url(), /Tran/, 'a searched name never goes into the address');
  assert.equal(await page.locator('a[href="/participants/e2e-lan"]').count(), 0);
  const funding = await page.goto(`${baseUrl}funding`);
  assert.equal(funding.status(), 403);
  assert.deepEqual(problems.filter((p) => !p.includes('404') && !p.includes('403')), []);
});

test('a participant completes the self-assessment in Vietnamese on a phone', async () => {
  const { page, problems } = await signedIn('caseworker@demo.iip');
  await page.goto(`${baseUrl}participants/e2e-lan`);
  await page.getByLabel('Self-assessment in').selectOption('vi');
  await page.getByRole('button', { name: 'Make a self-assessment link' }).click();
  assert.equal(await page.getByRole('img', { name: /QR code/ }).count(), 1);
  await assertAccessible(page);
  const link = await page.locator('figcaption a').getAttribute('href');
  assert.match(link, /\/s\/[0-9a-f]{64}\?lang=vi$/);

  // The participant's own phone: no cookies, a small screen.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const mobile = await phone.newPage();
  await mobile.goto(link);
  assert.equal(await mobile.locator('html').getAttribute('lang'), 'vi');
  assert.equal(await mobile.getByRole('heading', { level: 1 }).innerText(), 'Tự đánh giá');
  await assertAccessible(mobile);
  const questions = mobile.locator('fieldset.question');
  const count = await questions.count();
  assert.ok(count >= 16, `${count} questions`);
  for (let i = 0; i < count; i++) {
    await questions.nth(i).getByRole('radio', { name: i % 2 ? 'Hoàn toàn' : 'Phần nào' }).check();
  }
  await mobile.screenshot({ path: join(root, 'target', 'e2e', 'self-assessment-vi.png'), fullPage: false });
  await mobile.getByRole('button', { name: 'Gửi câu trả lời của tôi' }).click();
  assert.match(await mobile.getByRole('status').innerText(), /Xin cảm ơn/);
  await phone.close();

  await page.goto(`${baseUrl}participants/e2e-lan`);
  assert.match(await page.locator('p.score').first().innerText(), /Self-assessment overall: \d+%/);
  assert.deepEqual(problems, []);
});

test('an organization admin invites a colleague who chooses a password and signs in', async () => {
  const { page, problems } = await signedIn('orgadmin@demo.iip');
  await page.getByRole('link', { name: 'Accounts' }).click();
  assert.equal(await page.getByRole('heading', { level: 1, name: 'Accounts' }).count(), 1);
  await assertAccessible(page);
  await page.getByLabel('Email').fill('newcolleague@demo.iip');
  await page.getByLabel('Name').fill('New Colleague');
  await page.getByLabel('Role').selectOption('case_worker');
  await page.getByRole('button', { name: 'Create account and welcome link' }).click();
  const link = (await page.locator('code.link').innerText()).trim();
  assert.match(link, /\/welcome\/[0-9a-f]{64}$/);

  const fresh = await browser.newContext();
  const welcome = await fresh.newPage();
  await welcome.goto(link);
  await assertAccessible(welcome);
  await welcome.getByLabel('New password').fill('correct horse battery staple');
  await welcome.getByLabel('The same password again').fill('correct horse battery staple');
  await welcome.getByRole('button', { name: 'Set password' }).click();
  await welcome.waitForURL(/\/login$/);
  await welcome.getByLabel('Email').fill('newcolleague@demo.iip');
  await welcome.getByLabel('Password').fill('correct horse battery staple');
  await welcome.getByRole('button', { name: 'Sign in' }).click();
  await welcome.waitForURL((url) => !url.pathname.startsWith('/login'));
  assert.equal(await welcome.getByRole('link', { name: 'Participants' }).count(), 1);
  await fresh.close();
  assert.deepEqual(problems, []);
});

test('partnerships: the directory search, a referral answered by the partner, the gaps heat map', async () => {
  const { page, problems } = await signedIn('caseworker@demo.iip');
  await page.getByRole('link', { name: 'Directory' }).click();
  await page.getByLabel('Element').selectOption('health');
  await page.getByLabel('Language').selectOption('es');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/element=health/);
  assert.ok(await page.getByRole('rowheader', { name: 'Health coverage enrollment assistance' }).count() >= 1);
  await assertAccessible(page);
  await page.getByLabel('Language').selectOption('tl');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/language=tl/);
  assert.match(await page.getByRole('status').innerText(), /^0 services found/);

  // The demo's referrals, sent by this adult school, in every state of the flow.
  await page.getByRole('link', { name: 'Referrals' }).click();
  await assert.doesNotReject(page.getByRole('heading', { level: 1, name: 'Referrals' }).waitFor());
  const sent = await page.locator('section', { has: page.getByRole('heading', { name: 'Sent' }) }).innerText();
  for (const state of ['Requested', 'Accepted', 'Rejected', 'In progress', 'On hold', 'Completed', 'Failed', 'Cancelled']) {
    assert.match(sent, new RegExp(state), `a referral ${state}`);
  }
  assert.match(sent, /unanswered/);
  await assertAccessible(page);
  await page.locator('tr', { hasText: 'Completed' }).first().getByRole('link').click();
  await assert.doesNotReject(page.getByRole('heading', { level: 1, name: /Referral #\d+: Completed/ }).waitFor());
  assert.match(await page.locator('table.history').innerText(), /Requested[\s\S]*Accepted[\s\S]*In progress[\s\S]*Completed/);
  await assertAccessible(page);

  await page.getByRole('link', { name: 'Gaps' }).click();
  await assert.doesNotReject(page.getByRole('heading', { level: 1, name: 'Community gap analysis' }).waitFor());
  assert.equal(await page.getByRole('img', { name: 'Gaps by area and element' }).count(), 1);
  assert.match(await page.locator('table.gaps').innerText(), /Tagalog-speaking health navigation/);
  await page.screenshot({ path: join(root, 'target', 'e2e', 'gaps.png'), fullPage: true });
  await assertAccessible(page);
  assert.deepEqual(problems, []);
});

test('referral metrics for the state: counts withheld under 10, medians shown', async () => {
  const { page, problems } = await signedIn('state@demo.iip');
  await page.goto(`${baseUrl}referrals/metrics?year=`);
  await assert.doesNotReject(page.getByRole('heading', { level: 1, name: /Referral metrics/ }).waitFor());
  const overall = await page.locator('table.referral-metrics tbody tr').first().innerText();
  assert.match(overall, /Overall/);
  const numbers = (await page.locator('table.referral-metrics tbody td').allInnerTexts()).filter((t) => /^\d+$/.test(t)).map(Number);
  assert.ok(numbers.length > 0 && numbers.every((n) => n === 0 || n >= 10), `no count from 1 to 9: ${numbers}`);
  await assertAccessible(page);
  assert.deepEqual(problems, []);
});
