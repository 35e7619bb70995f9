// With API_KEY set: Bull Board at /queues takes the key once as ?key=, keeps it in an HttpOnly
// cookie and cleans the URL; the dashboard asks for the key, or takes it from ?key=, and then loads.
import { chromium, type Browser } from 'playwright-core';
import { FleetHarness, type ApiHandle } from '../support/fleet-harness.js';

const KEY = 'dashboard-e2e-secret';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

let fleet: FleetHarness;
let api: ApiHandle;
let browser: Browser;

beforeAll(async () => {
  fleet = await FleetHarness.create();
  [api, browser] = await Promise.all([fleet.startApi({ env: { API_KEY: KEY } }), chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.teardown();
});

describe('Bull Board behind API_KEY', () => {
  it('refuses requests without the key and explains how to pass it', async () => {
    const res = await fetch(`${api.url}/queues`);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('/queues?key=');
    expect((await fetch(`${api.url}/queues?key=wrong`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${api.url}/queues/api/queues`)).status).toBe(401);
  });

  it('takes ?key= once, sets an HttpOnly cookie and redirects to the clean URL', async () => {
    const res = await fetch(`${api.url}/queues?key=${KEY}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/queues');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Path=\/queues/);
    const page = await fetch(`${api.url}/queues`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect((await fetch(`${api.url}/queues/api/queues`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
  });
});

describe('dashboard behind API_KEY', () => {
  it('asks for the key, then shows the overview', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${api.url}/workers`);
    await page.locator('#keyform').waitFor();
    await page.fill('#keyform input[name="key"]', KEY);
    await page.click('#keyform button');
    await page.getByRole('heading', { name: 'Workers' }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem('fleet.apiKey'))).toBe(KEY);
    expect(await page.locator('#queues-link').getAttribute('href')).toBe(`/queues?key=${KEY}`);
    await context.close();
  }, 60_000);

  it('takes ?key= from the address and removes it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${api.url}/?key=${KEY}`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(new URL(page.url()).search).toBe('');
    await context.close();
  }, 60_000);
});
