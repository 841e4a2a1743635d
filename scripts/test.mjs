// npm test: the whole suite on SQLite, then again on PostgreSQL (the Redis tests run in both passes).
// Prints one closing line `N passed, N failed` and exits non-zero when anything failed.
//   RINGHOOK_TEST_DATABASES=sqlite npm test     only the SQLite pass
//   npm test -- test/calls.test.ts               extra arguments go to vitest
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const passes = (process.env.RINGHOOK_TEST_DATABASES ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
const extra = process.argv.slice(2)
const resultsDir = path.join(root, '.test-results')
fs.mkdirSync(resultsDir, { recursive: true })

function reachable(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
const needs = [['Redis', 6379, 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no']]
if (passes.includes('postgres')) needs.push(['PostgreSQL', 5432, 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'])
for (const [name, port, hint] of needs) {
  if (!(await reachable(port))) {
    console.error(`${name} is not reachable on 127.0.0.1:${port}; the tests need it. Start it, e.g.: ${hint}`)
    console.log('0 passed, 1 failed')
    process.exit(1)
  }
}

let passed = 0
let failed = 0
let skipped = 0
let status = 0
for (const db of passes) {
  console.log(`\n=== test pass: ${db} ===`)
  const out = path.join(resultsDir, `${db}.json`)
  fs.rmSync(out, { force: true })
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extra],
    { cwd: root, stdio: 'inherit', env: { ...process.env, TEST_DB: db === 'postgres' ? 'postgres' : 'sqlite', NO_COLOR: '1' } },
  )
  if (r.status !== 0) status = 1
  if (fs.existsSync(out)) {
    const report = JSON.parse(fs.readFileSync(out, 'utf8'))
    passed += report.numPassedTests
    failed += report.numFailedTests
    skipped += report.numPendingTests + (report.numTodoTests ?? 0)
    // a file that failed to load counts as a failure even though no test in it ran
    failed += report.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length
  } else {
    failed += 1
  }
}
if (failed > 0) status = 1
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(status)
