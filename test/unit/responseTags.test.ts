import { describe, expect, it } from 'vitest'
import { tagsFromResponse } from '../../src/webhooks/responseTags.js'
import type { ResponseMappingInput } from '../../src/webhooks/webhookConfig.js'
import { TAG_VALUE_MAX } from '../../src/core/tags.js'

const ALL: ResponseMappingInput = { mode: 'ALL' }
const JSON_TYPE = 'application/json; charset=utf-8'
const paths = (p: [string, string][], prefix: string | null = null): ResponseMappingInput => ({
  mode: 'PATHS',
  paths: p.map(([path, tag]) => ({ path, tag })),
  prefix,
})

describe('tagsFromResponse: reading the response', () => {
  it('no mapping: no tags and nothing to say, whatever the body', () => {
    expect(tagsFromResponse('{"a":1}', JSON_TYPE, null)).toEqual({ tags: {}, note: null })
    expect(tagsFromResponse('<html>', 'text/html', null)).toEqual({ tags: {}, note: null })
  })

  it('a response that is not JSON by its content type: no tags, and says so', () => {
    expect(tagsFromResponse('<html><body>ok</body></html>', 'text/html; charset=utf-8', ALL)).toEqual({ tags: {}, note: 'response is not JSON (text/html)' })
    expect(tagsFromResponse('{"a":"1"}', 'text/plain', ALL)).toEqual({ tags: {}, note: 'response is not JSON (text/plain)' })
  })

  it('accepts JSON media types in any case and +json types', () => {
    expect(tagsFromResponse('{"a":"1"}', 'Application/JSON', ALL).tags).toEqual({ a: '1' })
    expect(tagsFromResponse('{"a":"1"}', 'application/vnd.buyer+json', ALL).tags).toEqual({ a: '1' })
    expect(tagsFromResponse('{"a":"1"}', 'text/json', ALL).tags).toEqual({ a: '1' })
  })

  it('without a content type, parses the body if it is JSON', () => {
    expect(tagsFromResponse('{"a":"1"}', null, ALL)).toEqual({ tags: { a: '1' }, note: null })
    expect(tagsFromResponse('OK', null, ALL)).toEqual({ tags: {}, note: 'response is not JSON (no content type)' })
  })

  it('invalid or empty JSON: no tags, and says so', () => {
    const r = tagsFromResponse('{"a":1,', JSON_TYPE, ALL)
    expect(r.tags).toEqual({})
    expect(r.note).toMatch(/^response is not valid JSON: /)
    expect(tagsFromResponse('', JSON_TYPE, ALL)).toEqual({ tags: {}, note: 'response body is empty' })
    expect(tagsFromResponse('  \n', JSON_TYPE, paths([['a', 'a']]))).toEqual({ tags: {}, note: 'response body is empty' })
  })
})

describe('tagsFromResponse: mode ALL', () => {
  it('makes every scalar leaf a tag, flattened like a postback, keys normalised', () => {
    const body = JSON.stringify({
      accepted: true,
      bid: { price: 12.5, currency: 'USD', meta: { tier: 'A' } },
      'Buyer Name': 'Acme',
      'lead.id': 7,
      states: ['CA', 'NV'],
      items: [{ sku: 'x1' }, { sku: 'x2' }],
    })
    expect(tagsFromResponse(body, JSON_TYPE, ALL)).toEqual({
      tags: {
        accepted: 'true',
        bid_price: '12.5',
        bid_currency: 'USD',
        bid_meta_tier: 'A',
        buyer_name: 'Acme',
        lead_id: '7',
        states: 'CA,NV',
        items_0_sku: 'x1',
        items_1_sku: 'x2',
      },
      note: null,
    })
  })

  it('skips null, empty and blank values and empty arrays', () => {
    const r = tagsFromResponse('{"a":null,"b":"","c":"  ","d":[],"e":{},"f":"kept","g":0,"h":false}', JSON_TYPE, ALL)
    expect(r).toEqual({ tags: { f: 'kept', g: '0', h: 'false' }, note: null })
  })

  it('prepends the prefix to every key', () => {
    expect(tagsFromResponse('{"price":"3","bid":{"id":"b1"}}', JSON_TYPE, { mode: 'ALL', prefix: 'buyer' }).tags).toEqual({
      buyer_price: '3',
      buyer_bid_id: 'b1',
    })
  })

  it('skips keys that cannot be tag keys, and says which', () => {
    const r = tagsFromResponse('{"$id":"x","ok":"1","ключ":"v"}', JSON_TYPE, ALL)
    expect(r.tags).toEqual({ ok: '1' })
    expect(r.note).toBe('"$id" is not usable as a tag key; skipped; "ключ" is not usable as a tag key; skipped')
  })

  it('a JSON root that is not an object: no tags, and says what it is', () => {
    expect(tagsFromResponse('[1,2]', JSON_TYPE, ALL)).toEqual({ tags: {}, note: 'response JSON is an array, not an object' })
    expect(tagsFromResponse('"accepted"', JSON_TYPE, ALL)).toEqual({ tags: {}, note: 'response JSON is a string, not an object' })
    expect(tagsFromResponse('null', JSON_TYPE, ALL)).toEqual({ tags: {}, note: 'response JSON is null, not an object' })
    expect(tagsFromResponse('42', JSON_TYPE, ALL)).toEqual({ tags: {}, note: 'response JSON is a number, not an object' })
  })

  it('cuts a value at TAG_VALUE_MAX and says so', () => {
    const r = tagsFromResponse(JSON.stringify({ long: 'x'.repeat(TAG_VALUE_MAX + 50), short: 'y' }), JSON_TYPE, ALL)
    expect(r.tags.long).toBe('x'.repeat(TAG_VALUE_MAX))
    expect(r.tags.short).toBe('y')
    expect(r.note).toBe(`long cut to ${TAG_VALUE_MAX} characters`)
  })

  it('does not cut a surrogate pair in half', () => {
    const value = `${'x'.repeat(TAG_VALUE_MAX - 1)}😀tail`
    const r = tagsFromResponse(JSON.stringify({ v: value }), JSON_TYPE, ALL)
    expect(r.tags.v).toBe('x'.repeat(TAG_VALUE_MAX - 1))
    expect(r.tags.v).not.toMatch(/[\ud800-\udbff]$/)
    expect(r.note).toBe(`v cut to ${TAG_VALUE_MAX} characters`)
  })

  it('keeps unicode and escapes as decoded text', () => {
    expect(tagsFromResponse('{"city":"S\\u00e3o Paulo","note":"a\\nb"}', JSON_TYPE, ALL).tags).toEqual({ city: 'São Paulo', note: 'a\nb' })
  })
})

describe('tagsFromResponse: mode PATHS', () => {
  const body = JSON.stringify({
    bid: { price: 12.5, id: 'b-1', terms: { cap: 3 } },
    items: [{ sku: 'x1' }, { sku: 'x2' }],
    accepted: false,
    empty: '',
    nothing: null,
  })

  it('reads each dotted path, array indexes as numbers, into its tag', () => {
    const r = tagsFromResponse(
      body,
      JSON_TYPE,
      paths([
        ['bid.price', 'bid_price'],
        ['items.1.sku', 'second_sku'],
        ['accepted', 'Buyer Accepted'],
      ]),
    )
    expect(r).toEqual({ tags: { bid_price: '12.5', second_sku: 'x2', buyer_accepted: 'false' }, note: null })
  })

  it('JSON-stringifies objects and arrays', () => {
    const r = tagsFromResponse(
      body,
      JSON_TYPE,
      paths([
        ['bid.terms', 'terms'],
        ['items', 'items'],
      ]),
    )
    expect(r.tags).toEqual({ terms: '{"cap":3}', items: '[{"sku":"x1"},{"sku":"x2"}]' })
  })

  it('notes each missing path and still applies the others', () => {
    const r = tagsFromResponse(
      body,
      JSON_TYPE,
      paths([
        ['bid.amount', 'a'],
        ['bid.id', 'bid_id'],
        ['items.5.sku', 'b'],
        ['bid.price.x', 'c'],
        ['items.first', 'd'],
      ]),
    )
    expect(r.tags).toEqual({ bid_id: 'b-1' })
    expect(r.note).toBe('path bid.amount not found; path items.5.sku not found; path bid.price.x not found; path items.first not found')
  })

  it('does not reach inherited properties', () => {
    const r = tagsFromResponse(
      '{"bid":{}}',
      JSON_TYPE,
      paths([
        ['bid.constructor', 'a'],
        ['bid.toString', 'b'],
        ['items.length', 'c'],
      ]),
    )
    expect(r).toEqual({ tags: {}, note: 'path bid.constructor not found; path bid.toString not found; path items.length not found' })
    expect(tagsFromResponse('{"items":[1,2]}', JSON_TYPE, paths([['items.length', 'n']])).tags).toEqual({})
  })

  it('skips empty and null values, saying so', () => {
    const r = tagsFromResponse(
      body,
      JSON_TYPE,
      paths([
        ['empty', 'e'],
        ['nothing', 'n'],
        ['bid.id', 'id'],
      ]),
    )
    expect(r).toEqual({ tags: { id: 'b-1' }, note: 'path empty is empty; skipped; path nothing is empty; skipped' })
  })

  it('works on a root array, and prefixes the tags', () => {
    expect(tagsFromResponse('[{"price":"9"}]', JSON_TYPE, paths([['0.price', 'price']], 'buyer'))).toEqual({ tags: { buyer_price: '9' }, note: null })
  })

  it('cuts a long value at TAG_VALUE_MAX and says so', () => {
    const r = tagsFromResponse(JSON.stringify({ a: { b: 'z'.repeat(TAG_VALUE_MAX * 2) } }), JSON_TYPE, paths([['a.b', 'ab']]))
    expect(r.tags.ab).toHaveLength(TAG_VALUE_MAX)
    expect(r.note).toBe(`ab cut to ${TAG_VALUE_MAX} characters`)
  })
})
