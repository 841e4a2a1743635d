// Builds the dashboard (web/) into web/dist, which the server serves at /. Run by `npm install` (postinstall)
// and by `npm start` when web/dist is missing (--if-missing). The GraphQL schema is printed from the server's
// own Pothos schema and turned into gql.tada's introspection types, so the pages' operations are typed
// against the API they will talk to.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import zlib from 'node:zlib'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const web = path.join(root, 'web')
const dist = path.join(web, 'dist')

if (process.argv.includes('--if-missing') && fs.existsSync(path.join(dist, 'index.html'))) process.exit(0)

try {
  const started = Date.now()
  await writeSchemaTypes()
  const { build } = await import('vite')
  await build({ configFile: path.join(web, 'vite.config.ts'), logLevel: 'warn' })
  compressAssets()
  console.log(`built the dashboard into web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`)
} catch (e) {
  console.error('building the dashboard (web/) failed:')
  console.error(e)
  process.exit(1)
}

/** web/src/graphql/schema.graphql and graphql-env.d.ts (both generated, not in git). */
async function writeSchemaTypes() {
  const { printSchema, introspectionFromSchema } = await import('graphql')
  const { schema } = await import('../src/graphql/schema.js')
  const out = path.join(web, 'src/graphql')
  fs.mkdirSync(out, { recursive: true })
  fs.writeFileSync(path.join(out, 'schema.graphql'), printSchema(schema))
  // the types serve type-checking only (they need TypeScript, a dev dependency); the bundle needs none
  const tada = await import('@gql.tada/internal').catch(() => null)
  if (!tada) return
  const { minifyIntrospection, outputIntrospectionFile } = tada
  const introspection = minifyIntrospection(introspectionFromSchema(schema, { descriptions: false }))
  const text = outputIntrospectionFile(introspection, { fileType: '.d.ts', shouldPreprocess: true })
  fs.writeFileSync(path.join(out, 'graphql-env.d.ts'), text)
}

/** A gzip copy beside each script and stylesheet: the server sends it to browsers that accept gzip. */
function compressAssets() {
  const assets = path.join(dist, 'assets')
  for (const name of fs.readdirSync(assets)) {
    if (!/\.(js|css|svg)$/.test(name)) continue
    const file = path.join(assets, name)
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(fs.readFileSync(file), { level: 9 }))
  }
}
