// The layering rule (ARCHITECTURE.md): a module imports only its own layer and the layers below it, and no
// import cycle exists. Layers, lowest first:
//   core (and the generated Prisma client)   leaf code
//   events                                   the subscription bus, live streams
//   capabilities                             tenancy, campaigns, calls, postbacks, webhooks, delivery
//   store                                    the backends: Prisma clients and migrations, sqlite/, postgres/
//   jobs                                     Agenda
//   transports                               graphql/, http/
//   app                                      the composition root and entries (app.ts, main.ts, cli.ts)
// Type-only imports count: a port is declared below the code that implements it. The dashboard (web/src) is
// cruised too: it imports nothing of the server's, and no cycle.
const layer = {
  core: '^src/(core|generated)/',
  events: '^src/events/',
  capabilities: '^src/(tenancy|campaigns|calls|postbacks|webhooks|delivery)/',
  store: '^src/store/',
  jobs: '^src/jobs/',
  transports: '^src/(graphql|http)/',
  app: '^src/(app|main|cli)\\.ts$',
}
const above = (name, ...higher) => ({
  name: `${name}-imports-no-higher-layer`,
  severity: 'error',
  comment: `${name} may import only its own layer and the ones below it`,
  from: { path: layer[name] },
  to: { path: higher.map((h) => layer[h]).join('|') },
})

module.exports = {
  forbidden: [
    above('core', 'events', 'capabilities', 'store', 'jobs', 'transports', 'app'),
    above('events', 'capabilities', 'store', 'jobs', 'transports', 'app'),
    above('capabilities', 'store', 'jobs', 'transports', 'app'),
    above('store', 'jobs', 'transports', 'app'),
    above('jobs', 'transports', 'app'),
    above('transports', 'app'),
    // the dashboard talks to the server over HTTP only; the server never serves code from web/src
    { name: 'web-imports-no-server-code', severity: 'error', from: { path: '^web/' }, to: { path: '^(src|test|scripts|bench)/' } },
    { name: 'server-imports-no-web-code', severity: 'error', from: { path: '^src/' }, to: { path: '^web/' } },
    { name: 'no-circular', severity: 'error', comment: 'no import cycles', from: {}, to: { circular: true } },
    { name: 'not-to-unresolvable', severity: 'error', from: { path: '^src/' }, to: { couldNotResolve: true, pathNot: '^[@a-z]' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
