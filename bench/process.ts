// Child processes for benchmarks: a server started with a command, ready once it prints "listening on <url>".
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export const root = path.resolve(import.meta.dirname, '..')

export interface Started {
  child: ChildProcess
  url: string
  out: () => string
}

export function startProcess(cmd: string, args: string[], env: Record<string, string>): Promise<Started> {
  // a server that logs every request writes its log to a file, not through this process's pipe
  const logFile = env.LOG_LEVEL === 'info' || env.LOG_LEVEL === 'debug' ? fs.openSync(process.env.LOG_FILE ?? '/dev/null', 'a') : null
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', logFile ?? 'pipe'] })
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start: ${out}`)), 60_000)
    child.stdout!.on('data', (d) => {
      out += d
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ child, url: m[1]!, out: () => out })
      }
    })
    child.stderr?.on('data', (d) => (out += d))
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
}

/** node's arguments in `npm start` (package.json), so benchmarks and tests start the server as it does. */
export function startArgs(): string[] {
  const start = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  const [command, ...args] = start.split(/\s+/)
  if (command !== 'node') throw new Error(`npm start runs "${command}", not node`)
  return args
}

/** Ringhook as `npm start` runs it (node itself, so signals reach the server), with extra environment and node flags. */
export const startRinghook = (env: Record<string, string>, nodeArgs: string[] = []) => startProcess(process.execPath, [...nodeArgs, ...startArgs()], env)

export async function stopProcess(child: ChildProcess): Promise<void> {
  await new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })
}
