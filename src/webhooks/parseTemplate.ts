// Replacement tokens: `[caller_number]`, `[any_tag]`, fallbacks `[a|b]`, a default after a colon
// `[caller_state|geo_state:unknown]`. A token name starts with a letter or underscore, so JSON arrays
// such as `[1,2]` or `["x"]` are left alone.
export const TOKEN_PATTERN = /\[([A-Za-z_][\w.]*(?:\|[A-Za-z_][\w.]*)*)(?::([^\][]*))?\]/g

export interface TemplateToken {
  /** the text matched, brackets included */
  raw: string
  /** keys tried in order */
  keys: string[]
  /** used when no key resolves; undefined when none was given */
  defaultValue: string | undefined
  index: number
}

export function parseTemplate(template: string): TemplateToken[] {
  return [...template.matchAll(TOKEN_PATTERN)].map((m) => ({
    raw: m[0],
    keys: m[1]!.split('|').map((k) => k.toLowerCase()),
    defaultValue: m[2],
    index: m.index!,
  }))
}

/** The template with every token replaced by `placeholder` (for checking the shape of a template). */
export function fillTemplate(template: string, placeholder: string): string {
  return template.replace(TOKEN_PATTERN, placeholder)
}
