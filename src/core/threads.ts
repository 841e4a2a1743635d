// Threads of our own (the SQLite writer, the delivery client). Their entry is a module beside the one that
// starts them; when the server runs from TypeScript source (npm start, tests) it registers tsx first.
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'

/** Starts `name` (a module in the directory of `from`, an import.meta.url) as a thread, unref'd. */
export function startThread(from: string, name: string, workerData: unknown): Worker {
  const here = fileURLToPath(from)
  const entry = pathToFileURL(path.join(path.dirname(here), `${name}${path.extname(here)}`))
  let thread: Worker
  if (path.extname(here) === '.ts') {
    const tsxApi = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs'))
    const code = `import(${JSON.stringify(tsxApi.href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}) })`
    thread = new Worker(code, { eval: true, workerData })
  } else {
    thread = new Worker(entry, { workerData })
  }
  thread.unref()
  return thread
}
