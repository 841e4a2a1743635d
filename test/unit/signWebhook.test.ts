import crypto from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { signWebhook } from '../../src/delivery/signWebhook.js'

describe('Standard Webhooks signing', () => {
  const secret = `whsec_${crypto.randomBytes(32).toString('base64')}`
  const body = JSON.stringify({ caller_number: '+14155550100', note: 'ünïcode & "quotes"' })

  it('produces headers that the standardwebhooks package (an independent verifier) accepts', () => {
    const headers = signWebhook(secret, 'msg_2Kq1', new Date(), body)
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body))
  })

  it('is refused by the verifier when the body, id, timestamp or secret differ', () => {
    const headers = signWebhook(secret, 'msg_2Kq1', new Date(), body)
    const verifier = new Webhook(secret)
    expect(() => verifier.verify(body.replace('0100', '0101'), { ...headers })).toThrow()
    expect(() => verifier.verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow()
    expect(() => verifier.verify(body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) })).toThrow()
    const other = `whsec_${crypto.randomBytes(32).toString('base64')}`
    expect(() => new Webhook(other).verify(body, { ...headers })).toThrow()
    // and a signature from long ago is refused as a replay
    const old = signWebhook(secret, 'msg_2Kq1', new Date(Date.now() - 3600_000), body)
    expect(() => verifier.verify(body, { ...old })).toThrow(/timestamp/i)
  })
})
