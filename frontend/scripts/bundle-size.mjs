// Measures the JS a first visit downloads (gzip) from the last `vite build` and checks the budget.
// "initial" = the entry and its static imports (what index.html loads and preloads);
// "+ <route>" = that plus the chunks of the route a visitor lands on (login, public sites).
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const BUDGET_KB = Number(process.env.INITIAL_JS_BUDGET_KB || 200)
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist')
const manifest = JSON.parse(readFileSync(path.join(dist, '.vite', 'manifest.json'), 'utf8'))

const gzipKb = (file) => gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length / 1024

/** The chunk files a manifest entry needs before it runs (itself and static imports). */
function closure(key, seen = new Set()) {
  const entry = manifest[key]
  if (!entry || seen.has(entry.file)) return seen
  seen.add(entry.file)
  for (const dep of entry.imports ?? []) closure(dep, seen)
  return seen
}

const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry)
const initial = closure(entryKey)
const total = (files) => [...files].filter((f) => f.endsWith('.js')).reduce((sum, f) => sum + gzipKb(f), 0)

const initialKb = total(initial)
console.log(`initial JS (entry + static imports): ${initialKb.toFixed(1)} KB gzip in ${initial.size} files`)
for (const [label, key] of [
  ['login page', 'src/pages/auth/LoginPage.vue'],
  ['public sites page', 'src/pages/public/PublicSitesPage.vue'],
  ['home (layout + 我的信息)', 'src/layouts/AppLayout.vue'],
]) {
  const files = closure(key, new Set(initial))
  if (key.endsWith('AppLayout.vue')) closure('src/pages/home/HomePage.vue', files)
  console.log(`  + ${label}: ${total(files).toFixed(1)} KB gzip`)
}
if (initialKb > BUDGET_KB) {
  console.error(`initial JS ${initialKb.toFixed(1)} KB exceeds the ${BUDGET_KB} KB budget`)
  process.exit(1)
}
console.log(`within the ${BUDGET_KB} KB budget`)
