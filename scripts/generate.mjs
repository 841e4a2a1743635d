// Generates the two Prisma clients (SQLite and PostgreSQL) and the Pothos types from prisma/schema.prisma.
// The PostgreSQL schema is derived by swapping the provider line; it is written under src/generated/.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const source = fs.readFileSync(path.join(root, 'prisma/schema.prisma'), 'utf8')

export function postgresSchema(text) {
  const swapped = text.replace(/(datasource db \{\s*provider\s*=\s*)"sqlite"/, '$1"postgresql"')
  if (swapped === text) throw new Error('prisma/schema.prisma: datasource provider "sqlite" not found')
  // only the client generator, written beside the derived schema
  return swapped.replace(/generator pothos \{[^}]*\}\n/, '').replace(/output\s*=\s*"\.\.\/src\/generated\/prisma"/, 'output   = "./prisma-pg"')
}

const derived = path.join(root, 'src/generated/schema.postgresql.prisma')
fs.mkdirSync(path.dirname(derived), { recursive: true })
fs.writeFileSync(derived, postgresSchema(source))

const prismaBin = path.join(root, 'node_modules/prisma/build/index.js')
// `prisma generate` only checks that a schema engine file exists; it never runs it (platform facts).
const env = {
  ...process.env,
  PATH: `${path.join(root, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}`,
  PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true',
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
}
for (const schema of ['prisma/schema.prisma', derived]) {
  execFileSync(process.execPath, [prismaBin, 'generate', '--schema', schema], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] })
}
console.log('generated Prisma clients (sqlite, postgresql) and Pothos types')
