// The functions a replacement token may call (`[sha256(lower(trim(email)))]`), after the formatters of
// Invoca's webhook templates (the parameter_substitution gem). Each maps text to text, or says why it
// cannot (`{ problem }`): the token then has no value from it and its fallbacks and default apply.
import { createHash } from 'node:crypto'
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js'
import { LONE_SURROGATE } from '../core/text.js'
import { formatTime, isTimeZone, readTime, TIME_DIRECTIVES, unknownDirectives } from './formatTime.js'

export type FunctionResult = string | { problem: string }

/** The longest text a function may give (UTF-16 code units): calls nest, and each could multiply the text. */
export const MAX_RESULT_LENGTH = 65_536

export interface TokenFunction {
  /** one line: what it gives */
  summary: string
  /** how it is written, for messages and the README */
  usage: string
  /** fewest and most arguments, the value included */
  arity: readonly [number, number]
  apply(args: readonly string[]): FunctionResult
  /** why a literal argument (by position) can never work, or null: checked when a webhook is saved */
  checkLiteral?(index: number, value: string): string | null
}

/** A value in a message: quoted, and cut when long. */
const shown = (value: string) => JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)

const hash = (algorithm: string) => (args: readonly string[]) => createHash(algorithm).update(args[0]!, 'utf8').digest('hex')

const NON_NEGATIVE_INTEGER = /^\d{1,9}$/
const countArgument = (what: string) => (index: number, value: string) =>
  index >= 1 && !NON_NEGATIVE_INTEGER.test(value) ? `${what} must be a whole number of 0 or more; ${shown(value)} is not` : null
const count = (value: string) => (NON_NEGATIVE_INTEGER.test(value) ? Number(value) : null)

function country(args: readonly string[]): CountryCode | { problem: string } {
  const code = (args[1] ?? 'US').toUpperCase()
  return isSupportedCountry(code) ? code : { problem: `${shown(args[1]!)} is not a country code (ISO 3166 alpha-2, such as US or GB)` }
}
const checkCountry = (index: number, value: string) =>
  index === 1 && !isSupportedCountry(value.toUpperCase()) ? `${shown(value)} is not a country code (ISO 3166 alpha-2, such as US or GB)` : null

function phone(args: readonly string[]) {
  const code = country(args)
  if (typeof code !== 'string') return code
  const parsed = parsePhoneNumberFromString(args[0]!, code)
  return parsed?.isPossible() ? parsed : { problem: `${shown(args[0]!)} is not a phone number` }
}

function time(value: string): Date | { problem: string } {
  return readTime(value) ?? { problem: `${shown(value)} is not a time (ISO 8601, such as 2024-03-10T07:30:00Z, or unix seconds)` }
}

/** How often search occurs in text, without overlaps (as replaceAll counts them). */
function occurrences(text: string, search: string): number {
  let count = 0
  for (let at = text.indexOf(search); at !== -1; at = text.indexOf(search, at + search.length)) count++
  return count
}

const tooLong = (length: number) => ({ problem: `the result would be ${length} characters, more than ${MAX_RESULT_LENGTH}` })

/** The characters of a text (a character beyond U+FFFF is one, not two halves). */
const characters = (text: string) => Array.from(text)

export const TOKEN_FUNCTIONS: Readonly<Record<string, TokenFunction>> = {
  sha256: { usage: 'sha256(value)', summary: 'SHA-256 of the text (UTF-8), lowercase hex', arity: [1, 1], apply: hash('sha256') },
  sha1: { usage: 'sha1(value)', summary: 'SHA-1 of the text (UTF-8), lowercase hex', arity: [1, 1], apply: hash('sha1') },
  md5: { usage: 'md5(value)', summary: 'MD5 of the text (UTF-8), lowercase hex', arity: [1, 1], apply: hash('md5') },
  lower: { usage: 'lower(value)', summary: 'the text in lower case', arity: [1, 1], apply: (a) => a[0]!.toLowerCase() },
  upper: { usage: 'upper(value)', summary: 'the text in upper case', arity: [1, 1], apply: (a) => a[0]!.toUpperCase() },
  trim: { usage: 'trim(value)', summary: 'the text without leading and trailing whitespace', arity: [1, 1], apply: (a) => a[0]!.trim() },
  digits: { usage: 'digits(value)', summary: 'only the digits 0-9 of the text', arity: [1, 1], apply: (a) => a[0]!.replace(/[^0-9]/g, '') },
  e164: {
    usage: 'e164(value, country?)',
    summary: 'a phone number in E.164 (+14155550100); country (default US) for numbers written without one',
    arity: [1, 2],
    apply: (a) => {
      const parsed = phone(a)
      return 'problem' in parsed ? parsed : parsed.number
    },
    checkLiteral: checkCountry,
  },
  national: {
    usage: 'national(value, country?)',
    summary: 'the national significant number of a phone number, digits only (+14155550100 -> 4155550100)',
    arity: [1, 2],
    apply: (a) => {
      const parsed = phone(a)
      return 'problem' in parsed ? parsed : parsed.nationalNumber
    },
    checkLiteral: checkCountry,
  },
  date: {
    usage: 'date(value, format?, timeZone?)',
    summary: 'a time (ISO 8601 or unix seconds) written with a strftime format in an IANA time zone; default ISO 8601 in UTC',
    arity: [1, 3],
    apply: (a) => {
      const at = time(a[0]!)
      if ('problem' in at) return at
      const unknown = unknownDirectives(a[1] ?? '')
      if (unknown.length) return { problem: `the format ${shown(a[1]!)} uses ${unknown.join(', ')}, which is not one of ${TIME_DIRECTIVES.join(' ')}` }
      const zone = a[2] || 'UTC'
      if (!isTimeZone(zone)) return { problem: `${shown(zone)} is not a time zone (IANA, such as America/New_York)` }
      return formatTime(at, a[1], zone)
    },
    checkLiteral: (index, value) => {
      if (index === 1) {
        const unknown = unknownDirectives(value)
        return unknown.length ? `the format ${shown(value)} uses ${unknown.join(', ')}, which is not one of ${TIME_DIRECTIVES.join(' ')}` : null
      }
      return index === 2 && value !== '' && !isTimeZone(value) ? `${shown(value)} is not a time zone (IANA, such as America/New_York)` : null
    },
  },
  unix: {
    usage: 'unix(value)',
    summary: 'a time (ISO 8601 or unix seconds) as whole seconds since 1970-01-01T00:00:00Z',
    arity: [1, 1],
    apply: (a) => {
      const at = time(a[0]!)
      return 'problem' in at ? at : String(Math.floor(at.getTime() / 1000))
    },
  },
  urlencode: {
    usage: 'urlencode(value)',
    summary: 'the text percent-encoded as a URL component',
    arity: [1, 1],
    apply: (a) => encodeURIComponent(a[0]!.replace(LONE_SURROGATE, '\ufffd')),
  },
  base64: { usage: 'base64(value)', summary: 'base64 of the text (UTF-8), padded', arity: [1, 1], apply: (a) => Buffer.from(a[0]!, 'utf8').toString('base64') },
  left: {
    usage: 'left(value, n)',
    summary: 'the first n characters',
    arity: [2, 2],
    apply: (a) => {
      const n = count(a[1]!)
      return n === null ? { problem: `n must be a whole number of 0 or more; ${shown(a[1]!)} is not` } : characters(a[0]!).slice(0, n).join('')
    },
    checkLiteral: countArgument('n'),
  },
  right: {
    usage: 'right(value, n)',
    summary: 'the last n characters',
    arity: [2, 2],
    apply: (a) => {
      const n = count(a[1]!)
      if (n === null) return { problem: `n must be a whole number of 0 or more; ${shown(a[1]!)} is not` }
      return n === 0 ? '' : characters(a[0]!).slice(-n).join('')
    },
    checkLiteral: countArgument('n'),
  },
  substring: {
    usage: 'substring(value, start, length?)',
    summary: 'length characters (or all) from position start, the first being 0 (Invoca\'s "mid")',
    arity: [2, 3],
    apply: (a) => {
      const start = count(a[1]!)
      const length = a[2] === undefined ? Number.POSITIVE_INFINITY : count(a[2])
      if (start === null || length === null)
        return { problem: `start and length must be whole numbers of 0 or more; ${shown(start === null ? a[1]! : a[2]!)} is not` }
      return characters(a[0]!)
        .slice(start, start + length)
        .join('')
    },
    checkLiteral: countArgument('start and length'),
  },
  replace: {
    usage: 'replace(value, search, replacement)',
    summary: 'the text with every occurrence of search replaced (plain text, not a pattern)',
    arity: [3, 3],
    apply: ([value, search, replacement]) => {
      if (!search) return { problem: 'search must not be empty' }
      // measured before it is built: the text could be far beyond what a string can hold
      const length = value!.length + occurrences(value!, search) * (replacement!.length - search.length)
      return length > MAX_RESULT_LENGTH ? tooLong(length) : value!.replaceAll(search, replacement!)
    },
    checkLiteral: (index, value) => (index === 1 && value === '' ? 'search must not be empty' : null),
  },
}

export const FUNCTION_NAMES = Object.keys(TOKEN_FUNCTIONS)

/** "takes 1 argument", "takes 1 to 3 arguments" */
function takes([least, most]: readonly [number, number]): string {
  if (least === most) return `takes ${least} argument${least === 1 ? '' : 's'}`
  return `takes ${least} to ${most} arguments`
}

/**
 * A function applied to its arguments: a result longer than MAX_RESULT_LENGTH, or one that cannot be
 * computed at all, is a problem like any other (the fallbacks and the default apply, and the token says why).
 */
export function applyFunction(fn: TokenFunction, args: readonly string[]): FunctionResult {
  let result: FunctionResult
  try {
    result = fn.apply(args)
  } catch (e) {
    return { problem: `could not be computed (${(e as Error).message})` }
  }
  return typeof result === 'string' && result.length > MAX_RESULT_LENGTH ? tooLong(result.length) : result
}

/** The function by name, when there is one. */
export function tokenFunction(name: string): TokenFunction | undefined {
  return Object.hasOwn(TOKEN_FUNCTIONS, name) ? TOKEN_FUNCTIONS[name] : undefined
}

/**
 * Why a call cannot be made whatever the values, or null: an unknown function, or a wrong number of
 * arguments. `token` is the token it stands in, when it is more than the call (`[sha256(date())]`).
 */
export function callProblem(call: { name: string; args: readonly unknown[]; text: string }, token?: string): string | null {
  const fn = tokenFunction(call.name)
  const whole = token === undefined || token === `[${call.text}]`
  if (!fn) return `unknown function "${call.name}" in ${whole ? `[${call.text}]` : token}; functions: ${FUNCTION_NAMES.join(', ')}`
  const [least, most] = fn.arity
  const count = call.args.length
  if (count < least || count > most) return `${call.name} ${takes(fn.arity)}, ${whole ? `[${call.text}]` : `${call.text} in ${token}`} gives ${count}`
  return null
}
