// Replacement tokens, the one grammar that rendering, validation and the JSON checks read:
//
//   token := "[" chain (":" default)? "]"        default: the text up to "]" as it is, quotes and all
//   chain := expr ("|" expr)*                    the first expr with a value wins
//   expr  := name | name "(" (arg ("," arg)*)? ")"
//   arg   := chain (":" default)? | "text" | 'text' | number   default: quoted, or text up to "," or ")"
//
// Quoted strings escape their quote and backslash (\" \\); single quotes exist so that a token inside a
// JSON string needs no escaped quotes: `{"day":"[date(call_start, '%Y-%m-%d')]"}` is JSON as written.
// `[caller_number]`, `[caller_state|geo_state:unknown]`, `[sha256(lower(trim(email)))]`,
// `[date(call_start, "%Y-%m-%d", "America/New_York")]`. A token starts with a letter or underscore, so JSON
// arrays such as `[1,2]` or `["x"]` stay text; text in brackets that is no token (`[true, false]`) stays
// text too, as long as it calls no function: once `name(` is read the brackets are a token, and a mistake
// after that is a syntax error (listed in `errors`, and left as text when rendered). A call of a function
// that does not exist is a token here, so that saving it is refused by name; rendering leaves it as text.
// Whitespace is allowed inside parentheses only, so `[a | b]` stays text as it always has.

/** One alternative of a chain: a key (a built-in or a tag, case-folded) or a function call. */
export type TokenExpr = { kind: 'key'; key: string } | { kind: 'call'; name: string; args: TokenArg[]; text: string }

export type TokenArg = { kind: 'chain'; chain: TokenExpr[]; defaultValue: string | undefined } | { kind: 'literal'; value: string }

export interface TemplateToken {
  /** the text matched, brackets included */
  raw: string
  index: number
  /** alternatives tried in order */
  chain: TokenExpr[]
  /** used when no alternative has a value; undefined when none was given */
  defaultValue: string | undefined
}

export interface TemplateSyntaxError {
  index: number
  /** the token as far as it could be read, for the message */
  token: string
  message: string
}

export interface ParsedTemplate {
  tokens: TemplateToken[]
  errors: TemplateSyntaxError[]
}

const NAME_START = /[A-Za-z_]/
const NAME = /[A-Za-z_][\w.]*/y
const NUMBER = /-?\d+(?:\.\d+)?/y
const SPACE = /[ \t]*/y
/** calls inside calls, at most: deeper is no template a person writes, and would exhaust the stack */
export const MAX_CALL_DEPTH = 16

/** Thrown inside the parser; `committed` says whether the brackets were a token (a function was called). */
class Failure {
  constructor(
    readonly at: number,
    readonly message: string,
    readonly committed: boolean,
  ) {}
}

/** A parser over one bracketed token starting at `start` (the `[`). */
class TokenParser {
  private pos: number
  private committed = false
  private depth = 0

  constructor(
    private readonly text: string,
    private readonly start: number,
  ) {
    this.pos = start + 1
  }

  parse(): TemplateToken {
    const chain = this.chain(false)
    let defaultValue: string | undefined
    if (this.text[this.pos] === ':') {
      this.pos++
      defaultValue = this.topDefault()
    }
    if (this.text[this.pos] !== ']') this.fail(this.committed ? `expected "]"${this.found()}` : 'not a token')
    this.pos++
    return { raw: this.text.slice(this.start, this.pos), index: this.start, chain, defaultValue }
  }

  private fail(message: string): never {
    throw new Failure(this.pos, message, this.committed)
  }

  private found(): string {
    const c = this.text[this.pos]
    return c === undefined ? ' before the end of the text' : ` where ${JSON.stringify(c)} stands`
  }

  private skipSpace(): void {
    SPACE.lastIndex = this.pos
    SPACE.exec(this.text)
    this.pos = SPACE.lastIndex
  }

  private chain(inside: boolean): TokenExpr[] {
    const chain = [this.expr(inside)]
    for (;;) {
      const before = this.pos
      if (inside) this.skipSpace()
      if (this.text[this.pos] !== '|') {
        this.pos = before
        return chain
      }
      this.pos++
      if (inside) this.skipSpace()
      chain.push(this.expr(inside))
    }
  }

  private expr(inside: boolean): TokenExpr {
    NAME.lastIndex = this.pos
    const m = NAME.exec(this.text)
    if (!m) this.fail(this.committed || inside ? `expected a name${this.found()}` : 'not a token')
    const from = this.pos
    this.pos = NAME.lastIndex
    const name = m[0]
    if (this.text[this.pos] !== '(') {
      // outside parentheses `[note (x)]` stays text, as it always has
      SPACE.lastIndex = this.pos
      SPACE.exec(this.text)
      if (inside && SPACE.lastIndex > this.pos && this.text[SPACE.lastIndex] === '(') this.fail(`no space may stand between ${name} and "("`)
      return { kind: 'key', key: name.toLowerCase() }
    }
    this.committed = true
    if (++this.depth > MAX_CALL_DEPTH) this.fail(`calls nest more than ${MAX_CALL_DEPTH} deep`)
    this.pos++
    const args: TokenArg[] = []
    this.skipSpace()
    if (this.text[this.pos] === ')') {
      this.pos++
    } else {
      for (;;) {
        args.push(this.arg())
        this.skipSpace()
        const c = this.text[this.pos]
        this.pos++
        if (c === ')') break
        if (c !== ',') {
          this.pos--
          this.fail(`expected "," or ")" in the arguments of ${name}${this.found()}`)
        }
        this.skipSpace()
      }
    }
    this.depth--
    return { kind: 'call', name: name.toLowerCase(), args, text: this.text.slice(from, this.pos) }
  }

  private arg(): TokenArg {
    const c = this.text[this.pos]
    if (c === '"' || c === "'") return { kind: 'literal', value: this.quoted() }
    NUMBER.lastIndex = this.pos
    const number = NUMBER.exec(this.text)
    if (number) {
      this.pos = NUMBER.lastIndex
      return { kind: 'literal', value: number[0] }
    }
    if (c === undefined || !NAME_START.test(c)) {
      if (c === '\\' && this.text[this.pos + 1] === '"')
        this.fail(`a quote inside a token is not escaped, even in a JSON string: write 'text' in single quotes there`)
      this.fail(`expected a name, a "quoted string" or a number${this.found()}`)
    }
    const chain = this.chain(true)
    this.skipSpace()
    if (this.text[this.pos] !== ':') return { kind: 'chain', chain, defaultValue: undefined }
    this.pos++
    this.skipSpace()
    return { kind: 'chain', chain, defaultValue: this.argDefault() }
  }

  /** "text" or 'text'; \" (\' in single quotes) and \\ are the escapes, any other backslash is itself. */
  private quoted(): string {
    const quote = this.text[this.pos]!
    let value = ''
    for (let i = this.pos + 1; i < this.text.length; i++) {
      const c = this.text[i]!
      if (c === quote) {
        this.pos = i + 1
        return value
      }
      if (c === '\\' && (this.text[i + 1] === quote || this.text[i + 1] === '\\')) {
        value += this.text[++i]
      } else {
        value += c
      }
    }
    this.fail(`a quoted string is not closed (${quote} missing)`)
  }

  /** A default inside parentheses: a quoted string, or text up to "," or ")" (trimmed). */
  private argDefault(): string {
    const c = this.text[this.pos]
    if (c === '"' || c === "'") return this.quoted()
    const from = this.pos
    while (this.pos < this.text.length && !',()[]"\''.includes(this.text[this.pos]!)) this.pos++
    const c2 = this.text[this.pos]
    if (c2 !== ',' && c2 !== ')') this.fail(`a default inside parentheses is a quoted string or text up to "," or ")"${this.found()}`)
    return this.text.slice(from, this.pos).trim()
  }

  /** The default of the token: the text up to "]" as it is, quotes included, as before tokens took functions. */
  private topDefault(): string {
    const from = this.pos
    while (this.pos < this.text.length && this.text[this.pos] !== ']' && this.text[this.pos] !== '[') this.pos++
    if (this.text[this.pos] !== ']') this.fail(this.committed ? `a default ends at "]" and holds no "["${this.found()}` : 'not a token')
    return this.text.slice(from, this.pos)
  }
}

/** The token text from its "[" as far as the error (to the next "]" when there is one), for a message. */
function excerpt(template: string, start: number, at: number): string {
  const text = template.slice(start, start + 81)
  const close = text.indexOf(']', at - start)
  if (close !== -1) return text.slice(0, close + 1)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

function parseUncached(template: string): ParsedTemplate {
  const tokens: TemplateToken[] = []
  const errors: TemplateSyntaxError[] = []
  let i = template.indexOf('[')
  while (i !== -1) {
    let next = i + 1
    if (NAME_START.test(template[i + 1] ?? '')) {
      try {
        const token = new TokenParser(template, i).parse()
        tokens.push(token)
        next = i + token.raw.length
      } catch (e) {
        if (!(e instanceof Failure)) throw e
        if (e.committed) errors.push({ index: i, token: excerpt(template, i, e.at), message: e.message })
      }
    }
    i = template.indexOf('[', next)
  }
  return { tokens, errors }
}

// a webhook's templates are rendered for every pixel: each is parsed once
const parsed = new Map<string, ParsedTemplate>()
const PARSED_MAX = 2000

/** The tokens of a template, in order, and its syntax errors (brackets that call a function but are no token). */
export function parseTemplate(template: string): ParsedTemplate {
  const known = parsed.get(template)
  if (known) return known
  const result = parseUncached(template)
  if (parsed.size >= PARSED_MAX) parsed.clear()
  parsed.set(template, result)
  return result
}

/** The template with every token replaced by `placeholder` (for checking the shape of a template). */
export function fillTemplate(template: string, placeholder: string): string {
  let text = ''
  let at = 0
  for (const token of parseTemplate(template).tokens) {
    text += template.slice(at, token.index) + placeholder
    at = token.index + token.raw.length
  }
  return text + template.slice(at)
}
