import { describe, expect, it } from 'vitest'
import { renderFormBody, renderTemplate } from '../../src/webhooks/renderTokens.js'
import { tokenContext as context } from '../helpers/tokenContext.js'

describe('renderTemplate: values', () => {
  it('fills every built-in token', () => {
    const r = renderTemplate('[caller_number] [call_uuid] [campaign_id] [called_number] [call_duration]', context(), 'text')
    expect(r).toMatchObject({ text: '+14155550100 call-1 camp-9 +18005550199 42', unresolved: [] })
  })

  it('reads any other name as a tag, normalising the token key', () => {
    const r = renderTemplate('[caller_state]/[Lead.Zip]/[LEAD_SOURCE]', context({ caller_state: 'CA', lead_zip: '94103', lead_source: 'fb' }), 'text')
    expect(r.text).toBe('CA/94103/fb')
    expect(r.unresolved).toEqual([])
  })

  it('lets built-ins win over tags of the same name', () => {
    const r = renderTemplate('[caller_number]|[call_uuid]', context({ caller_number: '+19999999999', call_uuid: 'tag-uuid' }), 'text')
    expect(r.text).toBe('+14155550100|call-1')
  })

  it('renders a duration of 0 (a value) and treats a missing duration or called number as no value', () => {
    expect(renderTemplate('[call_duration]', context({}, { durationSeconds: 0 }), 'text')).toMatchObject({ text: '0', unresolved: [] })
    const r = renderTemplate('d=[call_duration]&to=[called_number]', context({ call_duration: '99' }, { durationSeconds: null, calledNumber: null }), 'text')
    // a built-in without a value is not read from a tag of the same name
    expect(r).toMatchObject({ text: 'd=&to=', unresolved: ['[call_duration]', '[called_number]'] })
  })

  it('tries a fallback chain in order', () => {
    const tags = { geo_state: 'NV', caller_state: 'CA' }
    expect(renderTemplate('[missing|geo_state|caller_state]', context(tags), 'text').text).toBe('NV')
    expect(renderTemplate('[caller_state|geo_state]', context(tags), 'text').text).toBe('CA')
    expect(renderTemplate('[nothing|called_number]', context(tags), 'text').text).toBe('+18005550199')
    expect(renderTemplate('[a|b|c]', context({ c: 'third' }), 'text').text).toBe('third')
  })

  it('uses the default only when no key has a value', () => {
    expect(renderTemplate('[caller_state|geo_state:unknown]', context(), 'text')).toMatchObject({ text: 'unknown', unresolved: [] })
    expect(renderTemplate('[caller_state|geo_state:unknown]', context({ geo_state: 'TX' }), 'text').text).toBe('TX')
    // an empty tag value is no value
    expect(renderTemplate('[x:fallback]', context({ x: '' }), 'text').text).toBe('fallback')
  })

  it('takes an explicit empty default as resolved', () => {
    expect(renderTemplate('a=[x:]', context(), 'url')).toMatchObject({ text: 'a=', unresolved: [] })
  })

  it('renders an unresolved token as empty and records its raw text once', () => {
    const r = renderTemplate('{"a":"[Lead.Zip]","b":"[x|y]","c":"[Lead.Zip]","n":"[caller_number]"}', context(), 'json')
    expect(r.text).toBe('{"a":"","b":"","c":"","n":"+14155550100"}')
    expect(r.unresolved).toEqual(['[Lead.Zip]', '[x|y]'])
  })

  it('leaves JSON arrays and text around the tokens alone', () => {
    const r = renderTemplate('{"ids":[1,2],"list":["x"],"who":"[caller_number]"}', context(), 'json')
    expect(JSON.parse(r.text)).toEqual({ ids: [1, 2], list: ['x'], who: '+14155550100' })
  })
})

describe('renderTemplate: escaping', () => {
  const nasty = 'Tom & "Jerry"\nline2\r\n\t= ?#/+ é 日本 😀 \\'

  it('url: percent-encodes each value, not the template', () => {
    const r = renderTemplate('https://buyer.example/p?n=[caller_number]&name=[name]&x=1', context({ name: nasty }), 'url')
    expect(r.text).toBe(`https://buyer.example/p?n=%2B14155550100&name=${encodeURIComponent(nasty)}&x=1`)
    expect(r.text).toContain('Tom%20%26%20%22Jerry%22%0Aline2%0D%0A%09%3D%20%3F%23%2F%2B%20%C3%A9%20%E6%97%A5%E6%9C%AC%20%F0%9F%98%80%20%5C')
    const url = new URL(r.text)
    expect(url.searchParams.get('name')).toBe(nasty)
    expect(url.searchParams.get('x')).toBe('1')
    expect([...url.searchParams.keys()]).toEqual(['n', 'name', 'x'])
  })

  it('url: escapes a default too, and survives a lone surrogate', () => {
    expect(renderTemplate('q=[x:a b&c]', context(), 'url').text).toBe('q=a%20b%26c')
    expect(renderTemplate('q=[x]', context({ x: 'a\ud800b' }), 'url').text).toBe('q=a%EF%BF%BDb')
  })

  it('json: escapes quotes, backslashes, newlines and controls; the body parses back to the value', () => {
    const r = renderTemplate('{"name":"[name]","state":"[s:N/A \\"none\\"]"}', context({ name: nasty }), 'json')
    expect(r.text).toContain('Tom & \\"Jerry\\"\\nline2\\r\\n\\t= ?#/+ é 日本 😀 \\\\')
    expect(JSON.parse(r.text)).toEqual({ name: nasty, state: 'N/A \\"none\\"' })
  })

  it('json: a value cannot break out of its string', () => {
    const r = renderTemplate('{"a":"[x]","admin":false}', context({ x: '","admin":true,"b":"' }), 'json')
    expect(JSON.parse(r.text)).toEqual({ a: '","admin":true,"b":"', admin: false })
  })

  it('header: strips CR and LF so a value cannot add a header', () => {
    const r = renderTemplate('Bearer [token]', context({ token: 'abc\r\nX-Admin: 1\nend' }), 'header')
    expect(r.text).toBe('Bearer abcX-Admin: 1end')
    expect(r.text).not.toMatch(/[\r\n]/)
    expect(renderTemplate('[v]', context({ v: 'a\tb "c" ~' }), 'header').text).toBe('a\tb "c" ~')
  })

  it('header: sends text beyond ASCII percent-encoded as UTF-8, so any tag makes a sendable header', () => {
    expect(renderTemplate('city=[city]', context({ city: 'Zürich 東京' }), 'header').text).toBe('city=Z%C3%BCrich %E6%9D%B1%E4%BA%AC')
    expect(renderTemplate('[v]', context({ v: 'é\ud800x' }), 'header').text).toBe('%C3%A9%EF%BF%BDx')
  })

  it('text: leaves values as they are', () => {
    expect(renderTemplate('Hi [name]!', context({ name: nasty }), 'text').text).toBe(`Hi ${nasty}!`)
  })
})

describe('renderFormBody', () => {
  it('percent-encodes each value of a form body', () => {
    const r = renderFormBody('a=[caller_number]&b=[x]&c=[missing]', context({ x: 'one & two=3' }))
    expect(r).toMatchObject({ text: 'a=%2B14155550100&b=one%20%26%20two%3D3&c=', unresolved: ['[missing]'] })
    const form = new URLSearchParams(r.text)
    expect(form.get('a')).toBe('+14155550100')
    expect(form.get('b')).toBe('one & two=3')
    expect(form.get('c')).toBe('')
  })
})
