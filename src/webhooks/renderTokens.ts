// Replacement tokens filled from a call and its tags, escaped for where they land (URL, JSON body, header,
// text). Functions run first (`[sha256(lower(email))]`), the escaping applies to what they give. Pure: the
// pixel records `unresolved`, so a token that found nothing is never sent silently.
import { normaliseTagKey, tagValue } from '../core/tags.js'
import { LONE_SURROGATE } from '../core/text.js'
import { parseTemplate, type ParsedTemplate, type TemplateToken, type TokenArg, type TokenExpr } from './parseTemplate.js'
import { applyFunction, callProblem, tokenFunction } from './tokenFunctions.js'

export interface TokenContext {
  call: {
    uuid: string
    callerNumber: string
    calledNumber: string | null
    campaignId: string
    durationSeconds: number | null
    startedAt: Date
    answeredAt: Date | null
    endedAt: Date | null
  }
  /** normalised tag key -> value */
  tags: Record<string, string>
}

export type TokenMode = 'url' | 'json' | 'text' | 'header'

export interface RenderedToken {
  token: string
  /** the value found (null: none, and no default) */
  value: string | null
  /** why a function gave no value (`e164: "abc" is not a phone number`), when one could not */
  problem?: string
}

export interface RenderedTemplate {
  text: string
  /**
   * raw text of each token that found no value and had no default, once each, in order of appearance; when a
   * function could not handle its input, followed by why (`[e164(phone)] (e164: "abc" is not a phone number)`)
   */
  unresolved: string[]
  /**
   * json mode: tokens outside a JSON string whose value is not a JSON value of its own (`{"n":[num]}` with
   * num "abc"): the body would not be JSON, so it is not sent
   */
  notJson?: { token: string; value: string }[]
  /** each token in order, with the value it found */
  tokens: RenderedToken[]
}

function isoTime(at: Date | null): string | null {
  return at ? at.toISOString() : null
}

function builtInToken(key: string, call: TokenContext['call']): string | null | undefined {
  switch (key) {
    case 'caller_number':
      return call.callerNumber
    case 'call_uuid':
      return call.uuid
    case 'campaign_id':
      return call.campaignId
    case 'called_number':
      return call.calledNumber
    case 'call_duration':
      return call.durationSeconds == null ? null : String(call.durationSeconds)
    case 'call_start':
      return isoTime(call.startedAt)
    case 'call_answered':
      return isoTime(call.answeredAt)
    case 'call_end':
      return isoTime(call.endedAt)
    default:
      return undefined
  }
}

/** The value of one token key: built-in names are the call's own and never read from tags. */
function tokenValue(rawKey: string, context: TokenContext): string | null {
  const key = normaliseTagKey(rawKey)
  const builtIn = builtInToken(key, context.call)
  if (builtIn !== undefined) return builtIn || null
  return tagValue(context.tags, key) || null
}

/** The first alternative of a chain with a value; why a function could not give one goes to `problems`. */
function chainValue(chain: readonly TokenExpr[], context: TokenContext, problems: string[]): string | null {
  for (const expr of chain) {
    const value = expr.kind === 'key' ? tokenValue(expr.key, context) : callValue(expr, context, problems)
    if (value !== null) return value
  }
  return null
}

function argValue(arg: TokenArg, context: TokenContext, problems: string[]): string | null {
  if (arg.kind === 'literal') return arg.value
  return chainValue(arg.chain, context, problems) ?? arg.defaultValue ?? null
}

/** A function's value: none when an argument has none (so the fallbacks go on), or when it cannot handle them. */
function callValue(call: Extract<TokenExpr, { kind: 'call' }>, context: TokenContext, problems: string[]): string | null {
  // renderedTokens leaves out the calls that cannot be made
  const fn = tokenFunction(call.name)
  if (!fn) return null
  const args: string[] = []
  for (const arg of call.args) {
    const value = argValue(arg, context, problems)
    if (value === null) return null
    args.push(value)
  }
  const result = applyFunction(fn, args)
  if (typeof result !== 'string') {
    problems.push(`${call.name}: ${result.problem}`)
    return null
  }
  // an empty result is no value, as an empty tag is
  return result || null
}

/** Whether every call in a chain, down its arguments, names a function and gives it as many arguments as it takes. */
function callable(chain: readonly TokenExpr[]): boolean {
  return chain.every((expr) => expr.kind === 'key' || (!callProblem(expr) && expr.args.every((arg) => arg.kind === 'literal' || callable(arg.chain))))
}

const rendered = new WeakMap<ParsedTemplate, TemplateToken[]>()

/**
 * The tokens a template renders. Saving a webhook refuses a call that cannot be made (an unknown function,
 * a wrong number of arguments), but a template saved before tokens took functions may hold text that
 * reads like one (`Note [Callback(yes)]`): it was sent as written then, and still is.
 */
export function renderedTokens(template: string): TemplateToken[] {
  const parsed = parseTemplate(template)
  let tokens = rendered.get(parsed)
  if (!tokens) {
    tokens = parsed.tokens.filter((token) => callable(token.chain))
    rendered.set(parsed, tokens)
  }
  return tokens
}

/** A token's value (its default when no alternative has one), and why functions gave none. */
export function tokenResult(token: TemplateToken, context: TokenContext): RenderedToken {
  const problems: string[] = []
  // an explicit default, even an empty one (`[a:]`), is what the user asked to send
  const value = chainValue(token.chain, context, problems) ?? token.defaultValue ?? null
  return problems.length ? { token: token.raw, value, problem: problems.join('; ') } : { token: token.raw, value }
}

// a lone surrogate (possible in a tag from JSON) would make encodeURIComponent throw
const NON_ASCII = /[^\u0000-\u007f]+/g

const escapers: Record<TokenMode, (value: string) => string> = {
  url: (value) => encodeURIComponent(value.replace(LONE_SURROGATE, '\ufffd')),
  json: (value) => JSON.stringify(value).slice(1, -1),
  // CR/LF would split the header (header injection) and Node refuses the other control characters;
  // HTTP header values are bytes, so text beyond ASCII is sent percent-encoded as UTF-8 (Zürich -> Z%C3%BCrich)
  header: (value) =>
    value
      .replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '')
      .replace(LONE_SURROGATE, '\ufffd')
      .replace(NON_ASCII, (text) => encodeURIComponent(text)),
  text: (value) => value,
}

/** For each token of a JSON template, whether it stands inside a JSON string (tokens themselves are skipped). */
export function tokensInJsonStrings(template: string, tokens: readonly TemplateToken[] = renderedTokens(template)): boolean[] {
  const inside: boolean[] = []
  let inString = false
  let next = 0
  for (let i = 0; i < template.length; i++) {
    const token = tokens[next]
    if (token && i === token.index) {
      inside.push(inString)
      i += token.raw.length - 1
      next++
      continue
    }
    const c = template[i]
    if (inString && c === '\\') i++
    else if (c === '"') inString = !inString
  }
  return inside
}

/** A value that is JSON on its own (a number, true, false, null, an object or array), as a token outside quotes must be. */
function isJsonValue(value: string): boolean {
  if (value.trim() === '') return false
  try {
    JSON.parse(value)
    return true
  } catch {
    return false
  }
}

export function renderTemplate(template: string, context: TokenContext, mode: TokenMode): RenderedTemplate {
  const escapeFor = escapers[mode]
  const unresolved: string[] = []
  const tokens = renderedTokens(template)
  // in a JSON body a token inside quotes is JSON-escaped text; one outside stands for a JSON value itself
  const inString = mode === 'json' ? tokensInJsonStrings(template, tokens) : null
  const notJson: { token: string; value: string }[] = []
  const found: RenderedToken[] = []
  let text = ''
  let at = 0
  for (const [i, token] of tokens.entries()) {
    const result = tokenResult(token, context)
    const { value } = result
    const listed = result.problem ? `${token.raw} (${result.problem})` : token.raw
    if (value === null && !unresolved.includes(listed)) unresolved.push(listed)
    found.push(result)
    let rendered: string
    if (inString && !inString[i]) {
      rendered = value ?? ''
      if (!isJsonValue(rendered)) notJson.push({ token: token.raw, value: rendered })
    } else {
      rendered = escapeFor(value ?? '')
    }
    text += template.slice(at, token.index) + rendered
    at = token.index + token.raw.length
  }
  return { text: text + template.slice(at), unresolved, tokens: found, ...(inString ? { notJson } : {}) }
}

/** A FORM body (`a=[caller_number]&b=[x]`): each value percent-encoded, as in a URL. */
export function renderFormBody(template: string, context: TokenContext): RenderedTemplate {
  return renderTemplate(template, context, 'url')
}
