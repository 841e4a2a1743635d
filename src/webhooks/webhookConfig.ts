// Webhook configuration: validation of what a user sends, shared by create and update.
import { badInput } from '../core/errors.js'
import { refuseControlCharacters, refuseNul } from '../core/text.js'
import { fillTemplate, parseTemplate, type TemplateToken, type TokenExpr } from './parseTemplate.js'
import { renderedTokens, tokensInJsonStrings } from './renderTokens.js'
import { callProblem, tokenFunction } from './tokenFunctions.js'
import { normaliseTagKey, TAG_KEY_PATTERN } from '../core/tags.js'

export const WEBHOOK_TRIGGERS = ['CALL_START', 'ANSWERED', 'CALL_END', 'CONVERSION', 'TIMER'] as const
export type WebhookTrigger = (typeof WEBHOOK_TRIGGERS)[number]
/** A pixel's trigger: its webhook's, or RESEND (delivered again) or TEST (a test-fire). */
export const PIXEL_TRIGGERS = [...WEBHOOK_TRIGGERS, 'RESEND', 'TEST'] as const
export type PixelTrigger = (typeof PIXEL_TRIGGERS)[number]
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
export type HttpMethod = (typeof HTTP_METHODS)[number]
export const BODY_TYPES = ['JSON', 'FORM', 'TEXT'] as const
export type BodyType = (typeof BODY_TYPES)[number]
export const MATCH_OPERATORS = ['EQUALS', 'NOT_EQUALS', 'EXISTS', 'NOT_EXISTS', 'IN', 'CONTAINS', 'GREATER_THAN', 'LESS_THAN'] as const
export type MatchOperator = (typeof MATCH_OPERATORS)[number]

/** Defaults and limits of delivery, stated in one place. */
export const WEBHOOK_LIMITS = {
  timeoutMsDefault: 5000,
  timeoutMsMax: 30_000,
  maxAttemptsDefault: 5,
  maxAttemptsMax: 20,
  retryBaseDelayMsDefault: 1000,
  timerSecondsMax: 4 * 3600,
  dedupeWindowSecondsMax: 30 * 86400,
  maxPerSecondMax: 100_000,
  maxInFlightMax: 10_000,
}

export interface MatchCondition {
  key: string
  operator: MatchOperator
  value?: string | null
  values?: string[] | null
}
/** OR of ANDs: the webhook fires when every condition of at least one group holds (no groups: always). */
export type MatchGroups = { conditions: MatchCondition[] }[]

export interface HeaderInput {
  name: string
  value: string
}

export interface ResponseMappingInput {
  mode: 'ALL' | 'PATHS'
  paths?: { path: string; tag: string }[] | null
  prefix?: string | null
}

export interface WebhookConfigInput {
  name?: string | null
  trigger?: WebhookTrigger | null
  timerSeconds?: number | null
  matches?: MatchGroups | null
  method?: HttpMethod | null
  url?: string | null
  headers?: HeaderInput[] | null
  body?: string | null
  bodyType?: BodyType | null
  timeoutMs?: number | null
  maxAttempts?: number | null
  retryBaseDelayMs?: number | null
  responseMapping?: ResponseMappingInput | null
  dedupeWindowSeconds?: number | null
  signingSecret?: string | null
  enabled?: boolean | null
  /** circuit breaker settings (delivery/circuitRules.ts); null: the defaults */
  circuitBreaker?: Record<string, unknown> | null
  maxPerSecond?: number | null
  maxInFlight?: number | null
}

/** Why a call in a token can never give a value (unknown function, wrong arguments), checked down its arguments. */
function callsProblem(chain: readonly TokenExpr[], token: TemplateToken): string | null {
  for (const expr of chain) {
    if (expr.kind === 'key') continue
    const problem = callProblem(expr, token.raw)
    if (problem) return problem
    for (const [i, arg] of expr.args.entries()) {
      const inner = arg.kind === 'chain' ? callsProblem(arg.chain, token) : tokenFunction(expr.name)?.checkLiteral?.(i, arg.value)
      if (inner) return arg.kind === 'chain' ? inner : `${expr.name}: ${inner} (in ${token.raw})`
    }
  }
  return null
}

/**
 * The tokens of a template can be rendered: no syntax error inside brackets that call a function, every
 * function known and given as many arguments as it takes, literal arguments it can use.
 */
export function checkTokens(field: string, template: string): void {
  const { tokens, errors } = parseTemplate(template)
  const error = errors[0]
  if (error) throw badInput(field, `${error.token} is not a valid token: ${error.message}`)
  for (const token of tokens) {
    const problem = callsProblem(token.chain, token)
    if (problem) throw badInput(field, problem)
  }
}

/** A URL template is valid when, with its tokens filled in, it is an absolute http(s) URL. */
export function checkUrlTemplate(url: string): string {
  const trimmed = url.trim()
  refuseControlCharacters('url', trimmed)
  checkTokens('url', trimmed)
  if (/\[[^\]]*$/.test(fillTemplate(trimmed, 'x').replace(/\[[^\]]*\]/g, ''))) throw badInput('url', 'has a "[" without a closing "]"')
  let parsed: URL
  try {
    parsed = new URL(fillTemplate(trimmed, 'x'))
  } catch {
    throw badInput('url', `"${url}" is not a valid URL template (an absolute http:// or https:// URL, tokens in [brackets])`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw badInput('url', `scheme "${parsed.protocol}" is not http or https`)
  return trimmed
}

/** Headers the HTTP client sets from the request itself: configured, they would make every delivery fail. */
const CLIENT_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
])
/** Headers Ringhook sets on every delivery (Standard Webhooks). */
const RINGHOOK_HEADERS = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature'])

/**
 * Header names are HTTP tokens, given once each, and none the client or Ringhook sets itself; values are
 * ASCII without control characters outside their tokens (a token's value beyond ASCII is sent
 * percent-encoded as UTF-8, so a tag can never make a request unsendable).
 */
export function checkHeaders(headers: HeaderInput[]): HeaderInput[] {
  const seen = new Set<string>()
  return headers.map((h, i) => {
    const name = h.name.trim()
    const lower = name.toLowerCase()
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw badInput(`headers[${i}].name`, `"${h.name}" is not a valid header name`)
    if (CLIENT_HEADERS.has(lower)) throw badInput(`headers[${i}].name`, `${name} is set by the HTTP client from the request itself; it cannot be configured`)
    if (RINGHOOK_HEADERS.has(lower))
      throw badInput(`headers[${i}].name`, `${name} is set by Ringhook on every delivery (Standard Webhooks); it cannot be configured`)
    if (seen.has(lower)) throw badInput(`headers[${i}].name`, `${name} is given more than once`)
    seen.add(lower)
    if (/[\r\n]/.test(h.value)) throw badInput(`headers[${i}].value`, 'must not contain line breaks')
    refuseControlCharacters(`headers[${i}].value`, h.value)
    checkTokens(`headers[${i}].value`, h.value)
    const text = fillTemplate(h.value, '').replace(/\[[^\]]*\]/g, '')
    if (/[^\u0000-\u007f]/.test(text))
      throw badInput(`headers[${i}].value`, 'must be ASCII outside its tokens (a value from a tag beyond ASCII is percent-encoded)')
    return { name, value: h.value }
  })
}

/** A JSON body template must be JSON once its tokens are filled in (tokens may stand for numbers too). */
export function checkBody(body: string, bodyType: BodyType): string {
  refuseNul('body', body)
  checkTokens('body', body)
  if (bodyType === 'JSON' && body.trim()) {
    try {
      JSON.parse(fillTemplate(body, '1'))
    } catch (e) {
      throw badInput('body', `is not a JSON template: ${(e as Error).message}`)
    }
  }
  return body
}

export function checkMatches(groups: MatchGroups): MatchGroups {
  return groups.map((group, g) => {
    if (group.conditions.length === 0) throw badInput(`matches[${g}].conditions`, 'a group needs at least one condition')
    return {
      conditions: group.conditions.map((c, i) => {
        const at = `matches[${g}].conditions[${i}]`
        const key = normaliseTagKey(c.key)
        if (!TAG_KEY_PATTERN.test(key)) throw badInput(`${at}.key`, `"${c.key}" is not a tag key`)
        const needsValue = c.operator !== 'EXISTS' && c.operator !== 'NOT_EXISTS'
        c.values?.forEach((v, j) => refuseNul(`${at}.values[${j}]`, v))
        if (c.operator === 'IN') {
          if (!c.values?.length) throw badInput(`${at}.values`, 'IN needs a list of values')
          return { key, operator: c.operator, values: c.values }
        }
        if (needsValue && (c.value == null || c.value === '')) throw badInput(`${at}.value`, `${c.operator} needs a value`)
        if (c.value) refuseNul(`${at}.value`, c.value)
        if ((c.operator === 'GREATER_THAN' || c.operator === 'LESS_THAN') && !Number.isFinite(Number(c.value))) {
          throw badInput(`${at}.value`, `${c.operator} compares numbers; "${c.value}" is not one`)
        }
        return needsValue ? { key, operator: c.operator, value: c.value } : { key, operator: c.operator }
      }),
    }
  })
}

export function checkResponseMapping(mapping: ResponseMappingInput): ResponseMappingInput {
  if (mapping.prefix != null && !/^[a-z0-9_]{0,32}$/.test(mapping.prefix)) throw badInput('responseMapping.prefix', 'use up to 32 characters of a-z, 0-9 and _')
  if (mapping.mode === 'PATHS') {
    if (!mapping.paths?.length) throw badInput('responseMapping.paths', 'PATHS mode needs at least one path')
    mapping.paths.forEach((p, i) => {
      if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(p.path))
        throw badInput(`responseMapping.paths[${i}].path`, `"${p.path}" is not a dotted path such as bid.price`)
      if (!TAG_KEY_PATTERN.test(normaliseTagKey(p.tag))) throw badInput(`responseMapping.paths[${i}].tag`, `"${p.tag}" is not a tag key`)
    })
  }
  return {
    mode: mapping.mode,
    paths: mapping.paths?.map((p) => ({ path: p.path, tag: normaliseTagKey(p.tag) })) ?? null,
    prefix: mapping.prefix ?? null,
  }
}

/** Standard Webhooks secrets: `whsec_` + base64 of 24 to 64 random bytes. */
export function checkSigningSecret(secret: string, field = 'signingSecret'): string {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret)
  const bytes = m ? Buffer.from(m[1]!, 'base64').length : 0
  if (bytes < 24 || bytes > 64) throw badInput(field, 'must be "whsec_" followed by base64 of 24 to 64 random bytes')
  return secret
}

export function checkRange(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(field, `must be an integer from ${min} to ${max}`)
  return value
}

/**
 * What a configuration allows but may not mean: a JSON body's tokens outside quotes stand for JSON values
 * (numbers, true, false, null), and a pixel whose value is not one is not sent.
 */
export function webhookWarnings(webhook: { bodyTemplate: string | null; bodyType: string }): string[] {
  if (webhook.bodyType !== 'JSON' || !webhook.bodyTemplate) return []
  const tokens = renderedTokens(webhook.bodyTemplate)
  const inString = tokensInJsonStrings(webhook.bodyTemplate, tokens)
  const outside = tokens.filter((_, i) => !inString[i]).map((t) => t.raw)
  if (outside.length === 0) return []
  return [
    `body: ${[...new Set(outside)].join(', ')} stand${outside.length === 1 ? 's' : ''} outside a JSON string: the value is sent as raw JSON, and a pixel whose value is not a JSON value (a number, true, false, null, an object or array) is not sent; quote the token to send text`,
  ]
}
