import { filter, pipe } from 'graphql-yoga'
import type { WebhookHealthEvent } from '../generated/prisma/client.js'
import { findWebhook } from '../webhooks/webhooks.js'
import { CIRCUIT_STATES, breakerSettings, type BreakerSettings } from '../delivery/circuitRules.js'
import type { HealthFigures, HealthWindow } from '../delivery/health.js'
import { endpointOrigins, originHealth, webhookHealth, type HealthPoint, type HealthReport } from '../delivery/healthReport.js'
import { builder } from './builder.js'

export const HealthWindowEnum = builder.enumType('HealthWindow', {
  description: 'HOUR: minute by minute; DAY and WEEK: hour by hour (the current, partial minute or hour included)',
  values: ['HOUR', 'DAY', 'WEEK'] as const,
})
export const CircuitStateEnum = builder.enumType('CircuitState', {
  description:
    'CLOSED: pixels go out. OPEN: they wait (PENDING, the reason noted) for one probe after a cool-down. HALF_OPEN: the probe is out. DISABLED: given up; enableWebhook re-enables.',
  values: CIRCUIT_STATES,
})

const FailuresRef = builder.objectRef<HealthFigures['failures']>('HealthFailures').implement({
  description: 'Failed attempts by kind.',
  fields: (t) => ({
    timeout: t.exposeInt('timeout'),
    network: t.exposeInt('network', { description: 'could not connect, connection reset, DNS' }),
    http4xx: t.exposeInt('http4xx', { description: '4xx answers other than 429' }),
    http429: t.exposeInt('http429'),
    http5xx: t.exposeInt('http5xx'),
    httpOther: t.exposeInt('httpOther', { description: '1xx and 3xx answers' }),
    refused: t.exposeInt('refused', { description: 'the target address was refused (private, loopback… unless ALLOWED_TARGETS)' }),
    total: t.exposeInt('total'),
  }),
})
const LatencyRef = builder.objectRef<HealthFigures['latencyMs']>('HealthLatency').implement({
  description: 'Answer times of answered attempts, in ms; percentiles from a histogram, accurate to its bucket.',
  fields: (t) => ({
    p50: t.exposeInt('p50', { nullable: true }),
    p95: t.exposeInt('p95', { nullable: true }),
    p99: t.exposeInt('p99', { nullable: true }),
    mean: t.exposeInt('mean', { nullable: true }),
  }),
})

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never

/** The figures of a window or of one point of its series. */
const figures = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, HealthFigures>) => ({
  attempts: t.exposeInt('attempts'),
  successes: t.exposeInt('successes'),
  failures: t.field({ type: FailuresRef, resolve: (h) => h.failures }),
  successRate: t.float({ nullable: true, description: 'successes / attempts, 0 to 1', resolve: (h) => h.successRate }),
  latencyMs: t.field({ type: LatencyRef, resolve: (h) => h.latencyMs }),
  lastSuccessAt: t.expose('lastSuccessAt', { type: 'DateTime', nullable: true }),
  lastFailureAt: t.expose('lastFailureAt', { type: 'DateTime', nullable: true }),
})

const HealthPointRef = builder.objectRef<HealthPoint>('HealthPoint').implement({
  description: 'One minute or hour of a health series.',
  fields: (t) => ({ at: t.expose('at', { type: 'DateTime' }), ...figures(t) }),
})

export const EndpointHealthRef = builder.objectRef<HealthReport & { origin?: string }>('EndpointHealth').implement({
  description: 'Delivery attempts over a window: counts, failures by kind, success rate, latency; kept incrementally, never read from the pixels.',
  fields: (t) => ({
    window: t.field({ type: HealthWindowEnum, resolve: (h) => h.window }),
    from: t.expose('from', { type: 'DateTime' }),
    to: t.expose('to', { type: 'DateTime' }),
    origin: t.string({ nullable: true, description: 'scheme://host:port, for an endpoint across webhooks', resolve: (h) => h.origin ?? null }),
    ...figures(t),
    series: t.field({ type: [HealthPointRef], description: 'oldest first; buckets without attempts are left out', resolve: (h) => h.series }),
  }),
})

const BreakerSettingsRef = builder.objectRef<BreakerSettings>('CircuitBreakerSettings').implement({
  description: 'The settings in force (the webhook\'s own over the defaults; README: "Circuit breaker").',
  fields: (t) => ({
    enabled: t.exposeBoolean('enabled'),
    failureRatePercent: t.exposeInt('failureRatePercent'),
    minAttempts: t.exposeInt('minAttempts'),
    windowSeconds: t.exposeInt('windowSeconds'),
    cooldownSeconds: t.exposeInt('cooldownSeconds'),
    maxCooldownSeconds: t.exposeInt('maxCooldownSeconds'),
    disableAfterFailingSeconds: t.exposeInt('disableAfterFailingSeconds', { nullable: true }),
    disableAfterTrips: t.exposeInt('disableAfterTrips', { nullable: true }),
    disableOnGone: t.exposeBoolean('disableOnGone'),
  }),
})

export const WebhookHealthEventRef = builder.prismaObject('WebhookHealthEvent', {
  description: "A change of a webhook's circuit.",
  fields: (t) => ({
    id: t.exposeID('id'),
    webhook: t.prismaField({
      type: 'Webhook',
      resolve: (query, e, _a, ctx) => ctx.services.db.webhook.findUniqueOrThrow({ ...query, where: { id: e.webhookId } }),
    }),
    webhookId: t.exposeID('webhookId'),
    from: t.field({ type: CircuitStateEnum, resolve: (e) => e.from as never }),
    to: t.field({ type: CircuitStateEnum, resolve: (e) => e.to as never }),
    reason: t.exposeString('reason'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    notifiedAt: t.expose('notifiedAt', { type: 'DateTime', nullable: true, description: "when the company's operator URL answered 2xx" }),
    notifyAttempts: t.exposeInt('notifyAttempts'),
    notifyError: t.exposeString('notifyError', { nullable: true }),
  }),
})

builder.prismaObjectFields('Webhook', (t) => ({
  circuitState: t.field({ type: CircuitStateEnum, resolve: (w) => w.circuitState as never }),
  circuitReason: t.exposeString('circuitReason', { nullable: true }),
  circuitChangedAt: t.expose('circuitChangedAt', { type: 'DateTime', nullable: true }),
  circuitProbeAt: t.expose('circuitProbeAt', { type: 'DateTime', nullable: true, description: 'OPEN: when the next probe goes' }),
  circuitTrips: t.exposeInt('circuitTrips', { description: 'trips since the circuit last closed' }),
  failingSince: t.expose('failingSince', { type: 'DateTime', nullable: true, description: 'first failure since the last success' }),
  circuitBreaker: t.field({ type: BreakerSettingsRef, resolve: (w) => breakerSettings(w) }),
  maxPerSecond: t.exposeInt('maxPerSecond', { nullable: true }),
  maxInFlight: t.exposeInt('maxInFlight', { nullable: true }),
  health: t.field({
    type: EndpointHealthRef,
    args: { window: t.arg({ type: HealthWindowEnum, defaultValue: 'HOUR' }) },
    resolve: (w, args, ctx) => webhookHealth(ctx.services.db, w.id, (args.window ?? 'HOUR') as HealthWindow),
  }),
  healthEvents: t.prismaField({
    type: ['WebhookHealthEvent'],
    description: 'changes of its circuit, newest first',
    args: { first: t.arg.int({ defaultValue: 20 }) },
    resolve: (query, w, args, ctx) =>
      ctx.services.db.webhookHealthEvent.findMany({
        ...query,
        where: { webhookId: w.id },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: Math.min(Math.max(args.first ?? 20, 1), 200),
      }),
  }),
}))

const EndpointRef = builder.objectRef<{ origin: string; attempts: number; window: HealthWindow; companyId: string }>('Endpoint').implement({
  description: "An endpoint origin the company's webhooks send to.",
  fields: (t) => ({
    origin: t.exposeString('origin'),
    attempts: t.exposeInt('attempts', { description: 'in the window asked for' }),
    health: t.field({
      type: EndpointHealthRef,
      resolve: async (e, _a, ctx) => ({ origin: e.origin, ...(await originHealth(ctx.services.db, e.companyId, e.origin, e.window)) }),
    }),
  }),
})

builder.queryFields((t) => ({
  endpoints: t.field({
    type: [EndpointRef],
    description: "The endpoint origins the company's webhooks reached in the window, busiest first.",
    args: { window: t.arg({ type: HealthWindowEnum, defaultValue: 'DAY' }) },
    resolve: async (_root, args, ctx) => {
      const window = (args.window ?? 'DAY') as HealthWindow
      return (await endpointOrigins(ctx.services.db, ctx.auth.companyId, window)).map((e) => ({ ...e, window, companyId: ctx.auth.companyId }))
    },
  }),
  endpointHealth: t.field({
    type: EndpointHealthRef,
    description: "An endpoint origin's health across the company's webhooks.",
    args: { origin: t.arg.string({ required: true }), window: t.arg({ type: HealthWindowEnum, defaultValue: 'HOUR' }) },
    resolve: async (_root, args, ctx) => ({
      origin: args.origin,
      ...(await originHealth(ctx.services.db, ctx.auth.companyId, args.origin, (args.window ?? 'HOUR') as HealthWindow)),
    }),
  }),
}))

builder.mutationField('enableWebhook', (t) =>
  t.prismaField({
    type: 'Webhook',
    description:
      'Closes the circuit and enables the webhook, whatever its state; the pixels that waited go out (pixels kept FAILED while it was disabled: replayPixels).',
    args: { input: t.arg({ type: builder.inputType('EnableWebhookInput', { fields: (f) => ({ id: f.id({ required: true }) }) }), required: true }) },
    resolve: async (_q, _root, { input }, ctx) => ctx.services.circuit.enable(await findWebhook(ctx.services.db, ctx.auth.companyId, input.id.toString())),
  }),
)

const EVENT_DATES = ['createdAt', 'notifiedAt'] as const

builder.subscriptionField('webhookHealthChanged', (t) =>
  t.field({
    type: WebhookHealthEventRef,
    description: "Each change of a circuit of the key's company (optionally one webhook's).",
    args: { webhookId: t.arg.id() },
    subscribe: async (_root, args, ctx) => {
      const webhookId = args.webhookId?.toString()
      if (webhookId) await findWebhook(ctx.services.db, ctx.auth.companyId, webhookId, 'webhookId')
      return pipe(
        ctx.services.pubsub.subscribe('webhookHealthChanged', ctx.auth.companyId),
        filter(({ event }) => !webhookId || event.webhookId === webhookId),
      )
    },
    resolve: (payload) => {
      const row = { ...payload.event } as Record<string, unknown>
      for (const key of EVENT_DATES) if (typeof row[key] === 'string') row[key] = new Date(row[key] as string)
      return row as unknown as WebhookHealthEvent
    },
  }),
)
