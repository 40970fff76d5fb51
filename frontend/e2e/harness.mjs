// A small browser-test harness over playwright-core and Debian's Chromium (no browser download):
// each test gets a fresh browser profile; failures leave a screenshot in test-results/.
import { chromium } from 'playwright-core'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results')
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 15000)
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const tests = []

/** Registers a test: fn({ page, context, baseURL, screenshot }) */
export function test(name, fn, options = {}) {
  tests.push({ name, fn, options })
}

export class AssertionError extends Error {}

export function expect(condition, message) {
  if (!condition) throw new AssertionError(message)
}

function slug(name) {
  return name.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '').slice(0, 80) || 'test'
}

async function runOne(t, baseURL) {
  const profile = await mkdtemp(path.join(tmpdir(), 'e2e-chromium-'))
  let context
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      baseURL,
      viewport: t.options.viewport ?? { width: 1280, height: 800 },
      locale: 'zh-CN',
    })
    context.setDefaultTimeout(TIMEOUT_MS)
    const page = context.pages()[0] ?? (await context.newPage())
    const consoleErrors = []
    page.on('pageerror', (err) => consoleErrors.push(String(err)))
    const screenshot = async (file, opts = {}) => {
      const target = path.join(RESULTS_DIR, file)
      await page.screenshot({ path: target, fullPage: true, ...opts })
      return target
    }
    try {
      await t.fn({ page, context, baseURL, screenshot })
      expect(consoleErrors.length === 0, `uncaught errors in the page: ${consoleErrors.join(' | ')}`)
    } catch (err) {
      await screenshot(`FAILED-${slug(t.name)}.png`).catch(() => undefined)
      throw err
    }
  } finally {
    await context?.close().catch(() => undefined)
    await rm(profile, { recursive: true, force: true }).catch(() => undefined)
  }
}

/** Runs every registered test in order, prints a summary, and sets the exit code. */
export async function run() {
  const baseURL = (process.env.E2E_BASE_URL || '').replace(/\/$/, '')
  if (!baseURL) {
    console.error('E2E_BASE_URL is not set (e.g. http://127.0.0.1:8765): start the backend serving frontend/dist first.')
    console.log('0 passed, 1 failed')
    process.exitCode = 2
    return
  }
  await mkdir(RESULTS_DIR, { recursive: true })
  const only = process.env.E2E_GREP
  const selected = only ? tests.filter((t) => t.name.includes(only)) : tests
  console.log(`e2e: ${selected.length} tests against ${baseURL} with ${CHROMIUM}`)
  const failures = []
  const started = Date.now()
  for (const t of selected) {
    const t0 = Date.now()
    try {
      await runOne(t, baseURL)
      console.log(`  ✓ ${t.name} (${Date.now() - t0} ms)`)
    } catch (err) {
      failures.push({ name: t.name, err })
      console.log(`  ✗ ${t.name} (${Date.now() - t0} ms)`)
      console.log(`      ${String(err?.stack || err).split('\n').slice(0, 6).join('\n      ')}`)
    }
  }
  const passed = selected.length - failures.length
  console.log('')
  if (failures.length) {
    console.log('Failed:')
    for (const f of failures) console.log(`  - ${f.name}: ${String(f.err?.message || f.err).split('\n')[0]}`)
  }
  console.log(`screenshots: ${RESULTS_DIR}`)
  console.log(`duration: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  console.log(`${passed} passed, ${failures.length} failed`)
  process.exitCode = failures.length || selected.length === 0 ? 1 : 0
}
