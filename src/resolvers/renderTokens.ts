// Replacement tokens filled from a call and its tags, escaped for where they land (URL, JSON body, header,
// text). Pure: the pixel records `unresolved`, so a token that found nothing is never sent silently.
import { normaliseTagKey } from './normalise.js'
import { parseTemplate } from './parseTemplate.js'

export interface TokenContext {
  call: {
    uuid: string
    callerNumber: string
    calledNumber: string | null
    campaignId: string
    durationSeconds: number | null
  }
  /** normalised tag key -> value */
  tags: Record<string, string>
}

export type TokenMode = 'url' | 'json' | 'text' | 'header'

export interface RenderedTemplate {
  text: string
  /** raw text of each token that found no value and had no default, once each, in order of appearance */
  unresolved: string[]
}

function builtInToken(key: string, call: TokenContext['call']): string | null | undefined {
  switch (key) {
    case 'caller_number': return call.callerNumber
    case 'call_uuid': return call.uuid
    case 'campaign_id': return call.campaignId
    case 'called_number': return call.calledNumber
    case 'call_duration': return call.durationSeconds == null ? null : String(call.durationSeconds)
    default: return undefined
  }
}

/** The value of one token key: built-in names are the call's own and never read from tags. */
function tokenValue(rawKey: string, context: TokenContext): string | null {
  const key = normaliseTagKey(rawKey)
  const builtIn = builtInToken(key, context.call)
  if (builtIn !== undefined) return builtIn || null
  return context.tags[key] || null
}

// a lone surrogate (possible in a tag from JSON) would make encodeURIComponent throw
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

const escapers: Record<TokenMode, (value: string) => string> = {
  url: (value) => encodeURIComponent(value.replace(LONE_SURROGATE, '\ufffd')),
  json: (value) => JSON.stringify(value).slice(1, -1),
  // CR/LF would split the header (header injection); the other control characters Node refuses outright
  header: (value) => value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ''),
  text: (value) => value,
}

export function renderTemplate(template: string, context: TokenContext, mode: TokenMode): RenderedTemplate {
  const escape = escapers[mode]
  const unresolved: string[] = []
  let text = ''
  let at = 0
  for (const token of parseTemplate(template)) {
    let value: string | null = null
    for (const key of token.keys) {
      value = tokenValue(key, context)
      if (value !== null) break
    }
    // an explicit default, even an empty one (`[a:]`), is what the user asked to send
    value ??= token.defaultValue ?? null
    if (value === null && !unresolved.includes(token.raw)) unresolved.push(token.raw)
    text += template.slice(at, token.index) + escape(value ?? '')
    at = token.index + token.raw.length
  }
  return { text: text + template.slice(at), unresolved }
}

/** A FORM body (`a=[caller_number]&b=[x]`): each value percent-encoded, as in a URL. */
export function renderFormBody(template: string, context: TokenContext): RenderedTemplate {
  return renderTemplate(template, context, 'url')
}
