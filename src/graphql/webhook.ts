import { webhookWarnings, type HeaderInput, type MatchGroups, type ResponseMappingInput } from '../webhooks/webhookConfig.js'
import { createWebhook, deleteWebhook, findWebhook, updateWebhook } from '../webhooks/webhooks.js'
import { builder } from './builder.js'
import { BodyTypeEnum, HttpMethodEnum, MatchOperatorEnum, WebhookTriggerEnum } from './enums.js'

type Condition = MatchGroups[number]['conditions'][number]

const ConditionRef = builder.objectRef<Condition>('WebhookCondition').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    operator: t.field({ type: MatchOperatorEnum, resolve: (c) => c.operator }),
    value: t.string({ nullable: true, resolve: (c) => c.value ?? null }),
    values: t.stringList({ nullable: true, resolve: (c) => c.values ?? null }),
  }),
})
const ConditionGroupRef = builder.objectRef<MatchGroups[number]>('WebhookConditionGroup').implement({
  description: 'All conditions of a group must hold (AND); a webhook fires when any group holds (OR).',
  fields: (t) => ({ conditions: t.field({ type: [ConditionRef], resolve: (g) => g.conditions }) }),
})
const HeaderRef = builder.objectRef<HeaderInput>('WebhookHeader').implement({
  fields: (t) => ({ name: t.exposeString('name'), value: t.exposeString('value') }),
})
const ResponseMappingRef = builder.objectRef<ResponseMappingInput>('ResponseMapping').implement({
  fields: (t) => ({
    mode: t.field({ type: ResponseMappingModeEnum, resolve: (m) => m.mode }),
    prefix: t.string({ nullable: true, resolve: (m) => m.prefix ?? null }),
    paths: t.field({
      type: [
        builder.objectRef<{ path: string; tag: string }>('ResponsePath').implement({
          fields: (f) => ({ path: f.exposeString('path'), tag: f.exposeString('tag') }),
        }),
      ],
      resolve: (m) => m.paths ?? [],
    }),
  }),
})

builder.prismaObject('Webhook', {
  fields: (t) => ({
    id: t.exposeID('id'),
    campaign: t.relation('campaign'),
    name: t.exposeString('name'),
    trigger: t.field({ type: WebhookTriggerEnum, resolve: (w) => w.trigger as never }),
    timerSeconds: t.exposeInt('timerSeconds', { nullable: true }),
    matches: t.field({ type: [ConditionGroupRef], resolve: (w) => w.matches as unknown as MatchGroups }),
    method: t.field({ type: HttpMethodEnum, resolve: (w) => w.method as never }),
    url: t.exposeString('urlTemplate', { description: 'URL template with replacement tokens' }),
    headers: t.field({ type: [HeaderRef], resolve: (w) => w.headers as unknown as HeaderInput[] }),
    body: t.exposeString('bodyTemplate', { nullable: true }),
    bodyType: t.field({ type: BodyTypeEnum, resolve: (w) => w.bodyType as never }),
    timeoutMs: t.exposeInt('timeoutMs'),
    maxAttempts: t.exposeInt('maxAttempts'),
    retryBaseDelayMs: t.exposeInt('retryBaseDelayMs'),
    responseMapping: t.field({
      type: ResponseMappingRef,
      nullable: true,
      resolve: (w) => (w.responseMapping as unknown as ResponseMappingInput | null) ?? null,
    }),
    dedupeWindowSeconds: t.exposeInt('dedupeWindowSeconds', { nullable: true }),
    hasSigningSecret: t.boolean({ description: 'the secret itself is write-only', resolve: (w) => w.signingSecret != null }),
    enabled: t.exposeBoolean('enabled'),
    warnings: t.stringList({
      description: 'what the configuration allows but may not mean (a JSON body token outside quotes); empty when nothing',
      resolve: (w) => webhookWarnings(w),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

builder.queryField('webhook', (t) =>
  t.prismaField({
    type: 'Webhook',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const webhook = await findWebhook(ctx.services.db, ctx.auth.companyId, args.id.toString())
      return ctx.services.db.webhook.findUniqueOrThrow({ ...query, where: { id: webhook.id } })
    },
  }),
)

const ConditionInput = builder.inputType('WebhookConditionInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    operator: t.field({ type: MatchOperatorEnum, required: true }),
    value: t.string({ description: 'not for EXISTS / NOT_EXISTS' }),
    values: t.stringList({ description: 'for IN' }),
  }),
})
const ConditionGroupInput = builder.inputType('WebhookConditionGroupInput', {
  fields: (t) => ({ conditions: t.field({ type: [ConditionInput], required: true }) }),
})
const HeaderInputRef = builder.inputType('WebhookHeaderInput', {
  fields: (t) => ({ name: t.string({ required: true }), value: t.string({ required: true }) }),
})
const ResponseMappingModeEnum = builder.enumType('ResponseMappingMode', {
  description: 'ALL: every scalar field of a JSON answer becomes a tag; PATHS: only the mapped paths',
  values: ['ALL', 'PATHS'] as const,
})
const ResponseMappingInputRef = builder.inputType('ResponseMappingInput', {
  fields: (t) => ({
    mode: t.field({ type: ResponseMappingModeEnum, required: true }),
    paths: t.field({
      type: [builder.inputType('ResponsePathInput', { fields: (f) => ({ path: f.string({ required: true }), tag: f.string({ required: true }) }) })],
    }),
    prefix: t.string(),
  }),
})

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never

/** The configuration fields shared by create and update (all optional here; create requires some). */
const webhookConfigFields = (t: PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>) => ({
  name: t.string(),
  trigger: t.field({ type: WebhookTriggerEnum }),
  timerSeconds: t.int({ description: 'TIMER only: seconds into the answered call' }),
  matches: t.field({ type: [ConditionGroupInput], description: 'OR of ANDs; empty: every call' }),
  method: t.field({ type: HttpMethodEnum, description: 'default POST' }),
  url: t.string({ description: 'absolute http(s) URL; tokens in [brackets] are URL-encoded' }),
  headers: t.field({ type: [HeaderInputRef] }),
  body: t.string({ description: 'body template; JSON bodies get JSON-escaped tokens' }),
  bodyType: t.field({ type: BodyTypeEnum, description: 'default JSON' }),
  timeoutMs: t.int({ description: 'default 5000, at most 30000' }),
  maxAttempts: t.int({ description: 'default 5, at most 20' }),
  retryBaseDelayMs: t.int({ description: 'first retry delay, doubled per attempt with jitter (default 1000)' }),
  responseMapping: t.field({ type: ResponseMappingInputRef, description: 'response -> tags; null: none' }),
  dedupeWindowSeconds: t.int({ description: 'fire at most once per caller number in this window' }),
  signingSecret: t.string({ description: 'Standard Webhooks secret (whsec_...), write-only; null removes it' }),
  enabled: t.boolean(),
  circuitBreaker: t.field({ type: CircuitBreakerInput, description: 'circuit breaker settings; fields left out keep the defaults; null: all defaults' }),
  maxPerSecond: t.int({ description: 'requests a second at most, across workers; null: no limit' }),
  maxInFlight: t.int({ description: 'requests under way at once at most, across workers; null: no limit' }),
})

const CircuitBreakerInput = builder.inputType('CircuitBreakerInput', {
  description: 'README: "Circuit breaker" gives the defaults and the anchors they were chosen against.',
  fields: (t) => ({
    enabled: t.boolean({ description: 'false: never trips (410 Gone still disables when disableOnGone)' }),
    failureRatePercent: t.int({ description: "trips when at least this share of the window's attempts failed (default 70)" }),
    minAttempts: t.int({ description: '…and the window holds at least this many attempts (default 10)' }),
    windowSeconds: t.int({ description: 'whole minutes (default 300)' }),
    cooldownSeconds: t.int({ description: 'wait before the first probe, doubled after each failed probe (default 30)' }),
    maxCooldownSeconds: t.int({ description: 'the longest wait between probes (default 900)' }),
    disableAfterFailingSeconds: t.int({ description: 'disabled after failing continuously this long (default 432000, 5 days); null: never' }),
    disableAfterTrips: t.int({ description: 'disabled after this many trips without recovering (default null: never)' }),
    disableOnGone: t.boolean({ description: 'a 410 Gone answer disables the webhook (default true)' }),
  }),
})

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({ campaignId: t.id({ required: true }), ...webhookConfigFields(t) }),
})
const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  fields: (t) => ({ id: t.id({ required: true }), ...webhookConfigFields(t) }),
})
const DeleteWebhookInput = builder.inputType('DeleteWebhookInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
})

builder.mutationFields((t) => ({
  createWebhook: t.prismaField({
    type: 'Webhook',
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    resolve: (_q, _root, { input }, ctx) => createWebhook(ctx.services.db, ctx.auth.companyId, { ...input, campaignId: input.campaignId.toString() }),
  }),
  updateWebhook: t.prismaField({
    type: 'Webhook',
    args: { input: t.arg({ type: UpdateWebhookInput, required: true }) },
    resolve: (_q, _root, { input }, ctx) => updateWebhook(ctx.services.db, ctx.auth.companyId, { ...input, id: input.id.toString() }),
  }),
  deleteWebhook: t.prismaField({
    type: 'Webhook',
    args: { input: t.arg({ type: DeleteWebhookInput, required: true }) },
    resolve: (_q, _root, { input }, ctx) => deleteWebhook(ctx.services.db, ctx.auth.companyId, { id: input.id.toString() }),
  }),
}))
