import { describe, expect, it } from 'vitest'
import { normalisePhoneNumber } from '../../src/core/phone.js'

describe('normalisePhoneNumber', () => {
  it('gives each form its E.164 number, the same when asked again (numbers seen lately are remembered)', () => {
    for (let round = 0; round < 2; round++) {
      expect(normalisePhoneNumber('(415) 555-0101')).toBe('+14155550101')
      expect(normalisePhoneNumber(' +1 415 555 0102 ')).toBe('+14155550102')
      expect(normalisePhoneNumber('+44 20 7946 0958')).toBe('+442079460958')
      expect(normalisePhoneNumber('12')).toBeNull()
      expect(normalisePhoneNumber('not a number')).toBeNull()
      expect(normalisePhoneNumber('   ')).toBeNull()
    }
  })
})
