import { describe, expect, it } from 'vitest'
import { fillTemplate, parseTemplate } from '../../src/webhooks/parseTemplate.js'
import { renderTemplate, type TokenMode } from '../../src/webhooks/renderTokens.js'
import { applyFunction, FUNCTION_NAMES, MAX_RESULT_LENGTH, TOKEN_FUNCTIONS, type TokenFunction } from '../../src/webhooks/tokenFunctions.js'
import { checkBody, checkHeaders, checkUrlTemplate, webhookWarnings } from '../../src/webhooks/webhookConfig.js'
import { tokenContext as context } from '../helpers/tokenContext.js'

/** The text a template renders to in text mode. */
const text = (template: string, tags: Record<string, string> = {}, mode: TokenMode = 'text') => renderTemplate(template, context(tags), mode).text

/** The message a validation throws, or null. */
function refusal(check: () => unknown): string | null {
  try {
    check()
    return null
  } catch (e) {
    return (e as Error).message
  }
}

describe('token functions: published test vectors', () => {
  it('sha256: FIPS 180-2 "abc" and the empty message', () => {
    expect(text('[sha256(x)]', { x: 'abc' })).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    // an empty tag is no value; an empty quoted string is a value
    expect(text('[sha256("")]')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  })

  it('sha1: FIPS 180-1 "abc"', () => {
    expect(text('[sha1(x)]', { x: 'abc' })).toBe('a9993e364706816aba3e25717850c26c9cd0d89d')
  })

  it('md5: the RFC 1321 test suite', () => {
    const suite: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
    ]
    for (const [input, digest] of suite) expect(text(`[md5(${JSON.stringify(input)})]`), input).toBe(digest)
  })

  it('base64: the RFC 4648 section 10 vectors (the empty one gives no value)', () => {
    const vectors: [string, string][] = [
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ]
    for (const [input, encoded] of vectors) expect(text('[base64(x)]', { x: input })).toBe(encoded)
    expect(renderTemplate('[base64("")]', context(), 'text')).toMatchObject({ text: '', unresolved: ['[base64("")]'] })
    expect(text('[base64(x)]', { x: 'ü~?' })).toBe('w7x+Pw==')
  })

  it("Meta's Conversions API examples: a normalised e-mail and a US phone number, hashed", () => {
    // developers.facebook.com, Conversions API, customer information parameters (em, ph)
    const tags = { email: '  John_Smith@gmail.com ', phone: '(650)555-1212' }
    expect(text('[sha256(lower(trim(email)))]', tags)).toBe('62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f')
    expect(text('[sha256(digits(e164(phone)))]', tags)).toBe('e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176')
  })
})

describe('token functions: text', () => {
  it('lower, upper, trim, digits', () => {
    const tags = { name: "  Zoë O'Brien  ", phone: '+1 (415) 555-0100 ext. 7' }
    expect(text('[lower(name)]|[upper(name)]|[trim(name)]', tags)).toBe("  zoë o'brien  |  ZOË O'BRIEN  |Zoë O'Brien")
    expect(text('[digits(phone)]', tags)).toBe('141555501007')
    // nothing left is no value, so the default applies
    expect(renderTemplate('[digits(name):none]', context(tags), 'text').text).toBe('none')
  })

  it('left, right, substring count characters, not UTF-16 halves', () => {
    const tags = { zip: '94103-1234', emoji: 'a😀b' }
    expect(text('[left(zip, 5)] [right(zip, 4)] [substring(zip, 6)] [substring(zip, 1, 3)]', tags)).toBe('94103 1234 1234 410')
    expect(text('[left(emoji, 2)]/[right(emoji, 2)]/[substring(emoji, 1, 1)]', tags)).toBe('a😀/😀b/😀')
    expect(text('[left(zip, 50)]', tags)).toBe('94103-1234')
  })

  it('replace replaces every occurrence of plain text', () => {
    expect(text('[replace(phone, "-", "")]', { phone: '415-555-0100' })).toBe('4155550100')
    expect(text("[replace(x, '.*', '!')]", { x: 'a.*b.*c' })).toBe('a!b!c')
  })

  it(`a result longer than ${MAX_RESULT_LENGTH} characters is no value and says why; the fallbacks and default apply`, () => {
    const x = 'x'.repeat(2000)
    // measured before it is built: this would be 8,000,000,000 characters, past what a string can hold
    const r = renderTemplate('[replace(replace(replace(a,"x",a),"x",a),"x",a)]', context({ a: x }), 'text')
    expect(r).toMatchObject({ text: '', tokens: [{ value: null, problem: 'replace: the result would be 4000000 characters, more than 65536' }] })
    expect(text('[replace(a,"x",a)|left(a, 3):none] [replace(a,"x",a):none]', { a: x })).toBe('xxx none')
    expect(text('[replace(a, "x", left(a, 32))]', { a: x })).toHaveLength(64_000)
    // measured after: each urlencode multiplies the text
    const euro = '\u20ac'.repeat(2000)
    const five = renderTemplate('[urlencode(urlencode(urlencode(urlencode(urlencode(a)))))]', context({ a: euro }), 'text')
    expect(five.tokens[0]).toEqual({ token: five.tokens[0]!.token, value: null, problem: 'urlencode: the result would be 66000 characters, more than 65536' })
    expect(text('[urlencode(urlencode(urlencode(urlencode(a))))]', { a: euro })).toHaveLength(54_000)
  })

  it('a function that throws gives no value and says why, instead of throwing', () => {
    const throws: TokenFunction = {
      summary: '',
      usage: 'x(value)',
      arity: [1, 1],
      apply: () => {
        throw new RangeError('Invalid string length')
      },
    }
    expect(applyFunction(throws, ['a'])).toEqual({ problem: 'could not be computed (Invalid string length)' })
    expect(applyFunction(TOKEN_FUNCTIONS.upper!, ['a'])).toBe('A')
  })

  it('urlencode percent-encodes as a URL component', () => {
    expect(text('[urlencode(x)]', { x: 'a b&c=d/é' })).toBe('a%20b%26c%3Dd%2F%C3%A9')
  })
})

describe('token functions: phone numbers', () => {
  it('e164: a number in E.164, US by default, another country by its code', () => {
    expect(text('[e164(x)]', { x: '(415) 555-0100' })).toBe('+14155550100')
    expect(text('[e164(x, "GB")]', { x: '020 7946 0000' })).toBe('+442079460000')
    expect(text('[e164(x, "gb")]', { x: '+1 415 555 0100' })).toBe('+14155550100')
  })

  it('national: the national significant number, digits only (no trunk 0)', () => {
    expect(text('[national(caller_number)]')).toBe('4155550100')
    expect(text('[national(x)]', { x: '+44 20 7946 0000' })).toBe('2079460000')
    expect(text('[national(x, "GB")]', { x: '020 7946 0000' })).toBe('2079460000')
  })

  it('a value that is no phone number gives no value and says why; the fallbacks apply', () => {
    const r = renderTemplate('[e164(x)]', context({ x: 'abc' }), 'text')
    expect(r).toMatchObject({ text: '', unresolved: ['[e164(x)] (e164: "abc" is not a phone number)'] })
    expect(r.tokens).toEqual([{ token: '[e164(x)]', value: null, problem: 'e164: "abc" is not a phone number' }])
    const fallback = renderTemplate('[e164(x)|caller_number]', context({ x: '555' }), 'text')
    expect(fallback).toMatchObject({ text: '+14155550100', unresolved: [] })
    expect(fallback.tokens[0]!.problem).toBe('e164: "555" is not a phone number')
    expect(text('[e164(x, country):unknown]', { x: '020 7946 0000', country: 'XX' })).toBe('unknown')
  })
})

describe('token functions: times', () => {
  it('call_start, call_answered, call_end: ISO 8601 UTC, none until it happens', () => {
    const r = renderTemplate('[call_start] [call_answered] [call_end]', context(), 'text')
    expect(r).toMatchObject({ text: '2024-03-10T06:59:30.250Z 2024-03-10T07:00:05.000Z ', unresolved: ['[call_end]'] })
    expect(text('[call_end:ongoing]')).toBe('ongoing')
  })

  it('date: ISO 8601 to the second in UTC by default, from ISO text or unix seconds', () => {
    expect(text('[date(call_start)]')).toBe('2024-03-10T06:59:30Z')
    expect(text('[date(t)]', { t: '1710054000' })).toBe('2024-03-10T07:00:00Z')
    expect(text('[date(t)]', { t: '2024-03-10T02:00:00-05:00' })).toBe('2024-03-10T07:00:00Z')
    // without an offset a time is UTC, never this server's zone
    expect(text('[date(t)] [date(u)]', { t: '2024-03-10 07:00:00', u: '2024-03-10' })).toBe('2024-03-10T07:00:00Z 2024-03-10T00:00:00Z')
  })

  it('date: a strftime format in an IANA zone, across both daylight saving changes', () => {
    const fmt = '"%Y-%m-%d %H:%M:%S %z %Z"'
    const ny = (t: string) => text(`[date(t, ${fmt}, "America/New_York")]`, { t })
    expect(ny('2024-03-10T06:59:59Z')).toBe('2024-03-10 01:59:59 -0500 EST')
    expect(ny('2024-03-10T07:00:00Z')).toBe('2024-03-10 03:00:00 -0400 EDT')
    expect(ny('2024-11-03T05:59:59Z')).toBe('2024-11-03 01:59:59 -0400 EDT')
    expect(ny('2024-11-03T06:00:00Z')).toBe('2024-11-03 01:00:00 -0500 EST')
    expect(text('[date(t, "%F %T%:z", "Europe/London")]', { t: '2024-03-31T01:00:00Z' })).toBe('2024-03-31 02:00:00+01:00')
    expect(text('[date(t, "%H:%M %:z", "Asia/Kolkata")]', { t: '2024-03-31T01:00:00Z' })).toBe('06:30 +05:30')
    // no format (an empty one) with a zone: ISO 8601 with the zone's offset
    expect(text('[date(call_start, "", "America/New_York")]')).toBe('2024-03-10T01:59:30-05:00')
    expect(text('[date(call_start, "%a %A %b %B %e %I%p %j %L %s %y %%")]')).toBe('Sun Sunday Mar March 10 06AM 070 250 1710053970 24 %')
  })

  it('date: the years 0 to 99 are those years, not 1900 to 1999', () => {
    expect(text('[date(t, "%F %a %j %z %y")]', { t: '0050-03-10T12:00:00Z' })).toBe('0050-03-10 Thu 069 +0000 50')
    // New York kept local mean time then (-4:56:02)
    expect(text('[date(t, "%F %T %a %j %z", "America/New_York")]', { t: '0050-03-10T12:00:00Z' })).toBe('0050-03-10 07:03:58 Thu 069 -0456')
    expect(text('[date(t)] [date(t, "", "America/New_York")]', { t: '0001-01-01T00:00:00Z' })).toBe('0001-01-01T00:00:00Z 0000-12-31T19:03:58-04:56')
    expect(text('[date(t, "%F %a %j")]', { t: '0099-12-31' })).toBe('0099-12-31 Thu 365')
  })

  it('date: a value that is no time gives no value and says why', () => {
    const r = renderTemplate('[date(when)]', context({ when: 'yesterday' }), 'text')
    expect(r.unresolved).toEqual(['[date(when)] (date: "yesterday" is not a time (ISO 8601, such as 2024-03-10T07:30:00Z, or unix seconds))'])
    expect(text('[date(when)|date(call_start):none]', { when: '2024-02-30T00:00:00Z' })).toBe('2024-03-10T06:59:30Z')
    expect(renderTemplate('[date(call_start, "%Y", zone)]', context({ zone: 'Mars/Olympus' }), 'text').tokens[0]!.problem).toBe(
      'date: "Mars/Olympus" is not a time zone (IANA, such as America/New_York)',
    )
  })

  it('unix: whole seconds since the epoch', () => {
    expect(text('[unix(call_start)]')).toBe('1710053970')
    expect(text('[unix(t)]', { t: '2024-03-10T07:00:00Z' })).toBe('1710054000')
    expect(text('[unix(t)]', { t: '1710054000.9' })).toBe('1710054000')
  })
})

describe('token functions: missing values, fallbacks and defaults', () => {
  it('a function over a missing value has none: the chain goes on, then the default', () => {
    expect(text('[sha256(email)|sha256(phone):none]', { phone: '16505551212' })).toBe('e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176')
    expect(text('[sha256(email)|sha256(phone):none]')).toBe('none')
    expect(text('[sha256(email|alt_email)]', { alt_email: 'abc' })).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    // a default inside the call is hashed; one outside is not
    expect(text('[md5(email:abc)]')).toBe('900150983cd24fb0d6963f7d28e17f72')
    expect(text('[md5(email):abc]')).toBe('abc')
  })

  it('is unresolved only when every alternative and the default fail', () => {
    expect(renderTemplate('[sha256(email)|sha256(phone)]', context(), 'text')).toMatchObject({ text: '', unresolved: ['[sha256(email)|sha256(phone)]'] })
    expect(renderTemplate('[sha256(email):]', context(), 'text')).toMatchObject({ text: '', unresolved: [] })
  })

  it('an argument with no value makes the call have none, literal arguments always have one', () => {
    expect(renderTemplate('[date(call_start, fmt)]', context(), 'text').unresolved).toEqual(['[date(call_start, fmt)]'])
    expect(text('[date(call_start, fmt:"%Y")]')).toBe('2024')
  })
})

describe('the token grammar', () => {
  it('reads nested calls, chains and defaults into one tree', () => {
    const { tokens, errors } = parseTemplate('x=[sha256(lower(trim(email)))|Phone:none]&y=[date(call_start, "%Y", \'UTC\')]')
    expect(errors).toEqual([])
    expect(tokens.map((t) => [t.raw, t.index])).toEqual([
      ['[sha256(lower(trim(email)))|Phone:none]', 2],
      [`[date(call_start, "%Y", 'UTC')]`, 44],
    ])
    expect(tokens[0]!.defaultValue).toBe('none')
    expect(tokens[0]!.chain).toEqual([
      {
        kind: 'call',
        name: 'sha256',
        text: 'sha256(lower(trim(email)))',
        args: [
          {
            kind: 'chain',
            defaultValue: undefined,
            chain: [
              {
                kind: 'call',
                name: 'lower',
                text: 'lower(trim(email))',
                args: [
                  {
                    kind: 'chain',
                    defaultValue: undefined,
                    chain: [
                      {
                        kind: 'call',
                        name: 'trim',
                        text: 'trim(email)',
                        args: [{ kind: 'chain', defaultValue: undefined, chain: [{ kind: 'key', key: 'email' }] }],
                      },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      },
      { kind: 'key', key: 'phone' },
    ])
    expect(tokens[1]!.chain[0]).toMatchObject({ name: 'date', args: [{ kind: 'chain' }, { kind: 'literal', value: '%Y' }, { kind: 'literal', value: 'UTC' }] })
  })

  it('folds the case of function names and keys, and allows whitespace inside parentheses only', () => {
    expect(text('[SHA256( Lower( x ) )]', { x: 'ABC' })).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    expect(text('[left( x , 2 )|y]', { x: 'abc' })).toBe('ab')
    expect(text('[sha256( a | b )]', { b: 'abc' })).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    // as always: outside parentheses a space makes it text
    expect(renderTemplate('[a | b]', context({ a: '1' }), 'text')).toMatchObject({ text: '[a | b]', tokens: [] })
  })

  it('keeps colons, brackets, commas and parentheses inside quoted strings, with \\" and \\\\ escapes', () => {
    expect(text('[date(call_start, "%H:%M [%Z], (x)")]')).toBe('06:59 [UTC], (x)')
    expect(text('[replace(x, "\\"", "\\\\")]', { x: 'a"b' })).toBe('a\\b')
    expect(text("[replace(x, 'it\\'s', \"it is\")]", { x: "it's" })).toBe('it is')
    // any other backslash is itself
    expect(text('[replace(x, "\\d", "#")]', { x: 'a\\db' })).toBe('a#b')
  })

  it('takes the text up to "]" as the default, quotes and all, as before tokens took functions', () => {
    expect(text('[a|b:unknown] [a:"unknown"] [a:]|', {})).toBe('unknown "unknown" |')
    expect(text('[x:\'none\'] [upper(x):"n/a"]')).toBe(`'none' "n/a"`)
    expect(text('[x:"a" and "b"]')).toBe('"a" and "b"')
    expect(text('[x:N/A \\"none\\"]')).toBe('N/A \\"none\\"')
    expect(text('[x:a|b:c]')).toBe('a|b:c')
    // the default ends at the first "]", inside quotes or not
    expect(text('[x:"a]b:c"]')).toBe('"ab:c"]')
    // outside a JSON string a quoted default is a JSON string
    const body = renderTemplate('{"state": [caller_state:"unknown"], "n": [n:0]}', context(), 'json')
    expect(body).toMatchObject({ text: '{"state": "unknown", "n": 0}', notJson: [] })
    // inside parentheses a quoted string is a literal
    expect(text('[upper(x:"n/a")] [upper(x: n/a )]')).toBe('N/A N/A')
    // a "[" in a default ends the token, and what follows is read on its own, as before
    expect(text('[x:[y]]', { y: 'Y' })).toBe('[x:Y]')
  })

  it('renders a bracket calling a function that does not exist, or with the wrong number of arguments, as text (saving it is refused)', () => {
    const tags = { email: 'e@x.example', x: 'x', y: 'y', a: 'A' }
    for (const template of ['Note [Callback(yes)]', '[sha256(lowr(email))]', '[a|callback(x)]', '[date()]', '[sha1(x, y):none]']) {
      expect(renderTemplate(template, context(tags), 'text'), template).toMatchObject({ text: template, tokens: [], unresolved: [] })
    }
    expect(text('[Callback(yes)] [upper(a)]', tags)).toBe('[Callback(yes)] A')
    // in a JSON body such a bracket is text, and the tokens around it are read as before
    const body = renderTemplate('{"note":"Call [Callback(yes)]","n":[call_duration]}', context(), 'json')
    expect(body).toMatchObject({ text: '{"note":"Call [Callback(yes)]","n":42}', notJson: [] })
    expect(webhookWarnings({ bodyType: 'JSON', bodyTemplate: '{"a":"[x]","b":[Callback(yes)]}' })).toEqual([])
    expect(refusal(() => checkBody('Note [Callback(yes)]', 'TEXT'))).toBe(
      `body: unknown function "callback" in [Callback(yes)]; functions: ${FUNCTION_NAMES.join(', ')}`,
    )
  })

  it('leaves JSON arrays and other bracketed text that calls no function alone', () => {
    for (const template of ['{"a":[1,2],"b":["x"],"c":[true, false],"d":[[1]],"e":[]}', '[a b]', '[Hot lead (A)]', '[sha256 (email)]', 'http://[::1]:8080/']) {
      expect(parseTemplate(template), template).toEqual({ tokens: [], errors: [] })
      expect(text(template), template).toBe(template)
    }
    expect(fillTemplate('{"a":[1,2],"b":[sha256(x)],"c":"[left(y, 2)]"}', '0')).toBe('{"a":[1,2],"b":0,"c":"0"}')
  })

  it('lists syntax errors once a function is called, and renders such brackets as text', () => {
    const cases: [string, string][] = [
      ['[sha256(email]', 'expected "," or ")" in the arguments of sha256 where "]" stands'],
      ['[sha256(email)', 'expected "]" before the end of the text'],
      ['[sha256(email) ]', 'expected "]" where " " stands'],
      ['[date(call_start, "%Y)]', 'a quoted string is not closed (" missing)'],
      ['[sha256(lower (email))]', 'no space may stand between lower and "("'],
      ['[left(x, )]', 'expected a name, a "quoted string" or a number where ")" stands'],
      ['[date(call_start, \\"%Y\\")]', "a quote inside a token is not escaped, even in a JSON string: write 'text' in single quotes there"],
      ['[upper(x:a(b))]', 'a default inside parentheses is a quoted string or text up to "," or ")" where "(" stands'],
      [`[${'lower('.repeat(17)}x${')'.repeat(17)}]`, 'calls nest more than 16 deep'],
    ]
    for (const [template, message] of cases) {
      expect(parseTemplate(template).errors, template).toEqual([{ index: 0, token: expect.any(String), message }])
      expect(renderTemplate(template, context({ email: 'e', x: 'x' }), 'text').text).toBe(template)
    }
  })

  it('knows the functions the README lists', () => {
    expect(FUNCTION_NAMES).toEqual([
      'sha256',
      'sha1',
      'md5',
      'lower',
      'upper',
      'trim',
      'digits',
      'e164',
      'national',
      'date',
      'unix',
      'urlencode',
      'base64',
      'left',
      'right',
      'substring',
      'replace',
    ])
  })
})

describe('escaping applies to what the functions give', () => {
  it('url: the result is percent-encoded; the function saw the raw value', () => {
    const r = renderTemplate('https://b.example/p?h=[base64(x)]&l=[lower(y)]&s=[sha256(y)]', context({ x: 'subjects?_d>', y: 'A B&C' }), 'url')
    expect(r.text).toBe(`https://b.example/p?h=c3ViamVjdHM%2FX2Q%2B&l=a%20b%26c&s=${text('[sha256(y)]', { y: 'A B&C' })}`)
    expect(new URL(r.text).searchParams.get('h')).toBe('c3ViamVjdHM/X2Q+')
    // urlencode in a URL is encoded once more: meant for a URL carried inside another value
    expect(renderTemplate('?u=[urlencode(y)]', context({ y: 'a b' }), 'url').text).toBe('?u=a%2520b')
  })

  it('json: the result is JSON-escaped inside quotes, and raw outside them', () => {
    const r = renderTemplate(`{"a":"[upper(x)]","b":"[replace(x, 'i', '"')]","n":[digits(caller_number)]}`, context({ x: 'say "hi"\n\\' }), 'json')
    expect(JSON.parse(r.text)).toEqual({ a: 'SAY "HI"\n\\', b: 'say "h""\n\\', n: 14155550100 })
    expect(r.notJson).toEqual([])
    const bad = renderTemplate('{"h":[sha256(x)]}', context({ x: 'abc' }), 'json')
    expect(bad.notJson).toEqual([{ token: '[sha256(x)]', value: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' }])
  })

  it('header: line breaks from a result are removed and text beyond ASCII is percent-encoded', () => {
    expect(renderTemplate('v=[upper(x)]', context({ x: 'zürich\r\nx-admin: 1' }), 'header').text).toBe('v=Z%C3%9CRICHX-ADMIN: 1')
    expect(renderTemplate('[replace(x, "-", "\n")]', context({ x: 'a-b' }), 'header').text).toBe('ab')
  })
})

describe('validation of tokens in a webhook', () => {
  it('refuses an unknown function, a wrong number of arguments and a syntax error, naming the field', () => {
    expect(refusal(() => checkBody('{"em":"[shaa256(email)]"}', 'JSON'))).toBe(
      `body: unknown function "shaa256" in [shaa256(email)]; functions: ${FUNCTION_NAMES.join(', ')}`,
    )
    expect(refusal(() => checkUrlTemplate('https://b.example/[date()]'))).toBe('url: date takes 1 to 3 arguments, [date()] gives 0')
    expect(refusal(() => checkUrlTemplate('https://b.example/[sha256(date(a, b, c, d))]'))).toBe(
      'url: date takes 1 to 3 arguments, date(a, b, c, d) in [sha256(date(a, b, c, d))] gives 4',
    )
    expect(refusal(() => checkBody('[sha256(lowr(email))]', 'TEXT'))).toMatch(/^body: unknown function "lowr" in \[sha256\(lowr\(email\)\)\]; functions: /)
    expect(refusal(() => checkBody('a=[sha1(x, y)]', 'FORM'))).toBe('body: sha1 takes 1 argument, [sha1(x, y)] gives 2')
    expect(
      refusal(() =>
        checkHeaders([
          { name: 'X-A', value: 'a' },
          { name: 'X-B', value: 'Bearer [upper(token]' },
        ]),
      ),
    ).toBe('headers[1].value: [upper(token] is not a valid token: expected "," or ")" in the arguments of upper where "]" stands')
    expect(refusal(() => checkUrlTemplate('https://b.example/[sha256(email)'))).toBe(
      'url: [sha256(email) is not a valid token: expected "]" before the end of the text',
    )
  })

  it('refuses literal arguments a function can never use', () => {
    expect(refusal(() => checkBody('[date(call_start, "%Y-%Q")]', 'TEXT'))).toMatch(/^body: date: the format "%Y-%Q" uses %Q, which is not one of %Y /)
    expect(refusal(() => checkBody('[date(call_start, "%F", "Mars/Olympus")]', 'TEXT'))).toBe(
      'body: date: "Mars/Olympus" is not a time zone (IANA, such as America/New_York) (in [date(call_start, "%F", "Mars/Olympus")])',
    )
    expect(refusal(() => checkBody('[e164(x, "USA")]', 'TEXT'))).toBe(
      'body: e164: "USA" is not a country code (ISO 3166 alpha-2, such as US or GB) (in [e164(x, "USA")])',
    )
    expect(refusal(() => checkBody('[left(x, 2.5)]', 'TEXT'))).toBe('body: left: n must be a whole number of 0 or more; "2.5" is not (in [left(x, 2.5)])')
    expect(refusal(() => checkBody('[replace(x, "", "y")]', 'TEXT'))).toBe('body: replace: search must not be empty (in [replace(x, "", "y")])')
  })

  it('accepts the examples, and keeps the URL and JSON checks working with them', () => {
    expect(checkUrlTemplate('https://b.example/c?ph=[digits(caller_number)]&d=[date(call_start, "%Y-%m-%d", "America/New_York")]')).toContain('digits')
    const body = '{"user_data":{"em":["[sha256(lower(trim(email)))]"],"ph":["[sha256(digits(e164(phone)))]"]},"event_time":[unix(call_start)],"ids":[1,2]}'
    expect(checkBody(body, 'JSON')).toBe(body)
    // quotes inside a token do not end the JSON string around it; single quotes keep the template JSON as written
    for (const day of ['{"day":"[date(call_start, "%Y-%m-%d")]"}', `{"day":"[date(call_start, '%Y-%m-%d')]"}`]) {
      expect(checkBody(day, 'JSON')).toBe(day)
      expect(JSON.parse(renderTemplate(day, context(), 'json').text)).toEqual({ day: '2024-03-10' })
    }
    expect(refusal(() => checkBody('{"a":[sha256(x)', 'JSON'))).toMatch(/^body: \[sha256\(x\) is not a valid token/)
    expect(refusal(() => checkBody('{"a":"[sha256(x)]",}', 'JSON'))).toMatch(/^body: is not a JSON template/)
    expect(refusal(() => checkUrlTemplate('https://b.example/[replace(x, "]", "")]/[caller_number'))).toBe('url: has a "[" without a closing "]"')
    expect(checkHeaders([{ name: 'X-A', value: '[replace(city, "ü", "ue")]' }])).toHaveLength(1)
    expect(webhookWarnings({ bodyType: 'JSON', bodyTemplate: body })).toEqual([
      expect.stringMatching(/^body: \[unix\(call_start\)\] stands outside a JSON string/),
    ])
  })
})
