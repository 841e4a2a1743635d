import { describe, expect, it } from 'vitest'
import { evaluateMatches } from '../../src/webhooks/matchTags.js'
import type { MatchCondition, MatchGroups } from '../../src/webhooks/webhookConfig.js'

const one = (c: MatchCondition): MatchGroups => [{ conditions: [c] }]
const holds = (c: MatchCondition, tags: Record<string, string>) => evaluateMatches(one(c), tags).matched

describe('evaluateMatches: operators', () => {
  it('EQUALS: case-insensitive and trimmed; an absent tag fails', () => {
    const c: MatchCondition = { key: 'caller_state', operator: 'EQUALS', value: ' ca ' }
    expect(holds(c, { caller_state: 'CA' })).toBe(true)
    expect(holds(c, { caller_state: 'Ca  ' })).toBe(true)
    expect(holds(c, { caller_state: 'NV' })).toBe(false)
    expect(holds(c, { caller_state: 'CAL' })).toBe(false)
    expect(holds(c, {})).toBe(false)
  })

  it('NOT_EQUALS: holds for another value and for an absent tag', () => {
    const c: MatchCondition = { key: 'caller_state', operator: 'NOT_EQUALS', value: 'CA' }
    expect(holds(c, { caller_state: 'NV' })).toBe(true)
    expect(holds(c, {})).toBe(true)
    expect(holds(c, { caller_state: 'ca' })).toBe(false)
    expect(holds(c, { caller_state: ' CA ' })).toBe(false)
  })

  it('EXISTS and NOT_EXISTS: a tag with a non-empty value', () => {
    const exists: MatchCondition = { key: 'lead_id', operator: 'EXISTS' }
    const notExists: MatchCondition = { key: 'lead_id', operator: 'NOT_EXISTS' }
    expect(holds(exists, { lead_id: '7' })).toBe(true)
    expect(holds(exists, { lead_id: '0' })).toBe(true)
    expect(holds(exists, {})).toBe(false)
    expect(holds(exists, { lead_id: '' })).toBe(false)
    expect(holds(exists, { other: 'x' })).toBe(false)
    expect(holds(notExists, {})).toBe(true)
    expect(holds(notExists, { lead_id: '' })).toBe(true)
    expect(holds(notExists, { lead_id: '7' })).toBe(false)
  })

  it('IN: the value is one of the list, case-insensitive', () => {
    const c: MatchCondition = { key: 'caller_state', operator: 'IN', values: ['CA', 'nv'] }
    expect(holds(c, { caller_state: 'ca' })).toBe(true)
    expect(holds(c, { caller_state: 'NV' })).toBe(true)
    expect(holds(c, { caller_state: 'TX' })).toBe(false)
    expect(holds(c, { caller_state: 'CA,NV' })).toBe(false)
    expect(holds(c, {})).toBe(false)
  })

  it('CONTAINS: substring, case-insensitive', () => {
    const c: MatchCondition = { key: 'interests', operator: 'CONTAINS', value: 'Solar' }
    expect(holds(c, { interests: 'roof,SOLAR panels' })).toBe(true)
    expect(holds(c, { interests: 'solar' })).toBe(true)
    expect(holds(c, { interests: 'roof' })).toBe(false)
    expect(holds(c, { interests: 'sol ar' })).toBe(false)
    expect(holds(c, {})).toBe(false)
  })

  it('GREATER_THAN and LESS_THAN compare numbers, not strings', () => {
    const gt: MatchCondition = { key: 'age', operator: 'GREATER_THAN', value: '30' }
    const lt: MatchCondition = { key: 'age', operator: 'LESS_THAN', value: '30' }
    expect(holds(gt, { age: '100' })).toBe(true) // '100' > '30' is false as strings
    expect(holds(gt, { age: '30.5' })).toBe(true)
    expect(holds(gt, { age: '30' })).toBe(false)
    expect(holds(gt, { age: '9' })).toBe(false)
    expect(holds(lt, { age: '9' })).toBe(true)
    expect(holds(lt, { age: '-1' })).toBe(true)
    expect(holds(lt, { age: '30' })).toBe(false)
    expect(holds(lt, { age: '100' })).toBe(false)
  })

  it('GREATER_THAN and LESS_THAN fail on a missing, blank or non-numeric value', () => {
    for (const operator of ['GREATER_THAN', 'LESS_THAN'] as const) {
      const c: MatchCondition = { key: 'age', operator, value: '30' }
      expect(holds(c, {})).toBe(false)
      expect(holds(c, { age: 'forty' })).toBe(false)
      expect(holds(c, { age: '   ' })).toBe(false) // Number('   ') is 0
      expect(holds(c, { age: 'Infinity' })).toBe(false)
    }
    expect(holds({ key: 'age', operator: 'LESS_THAN', value: '1' }, { age: '' })).toBe(false)
  })

  it('reads the tag under its normalised key', () => {
    expect(holds({ key: 'Caller State', operator: 'EQUALS', value: 'CA' }, { caller_state: 'CA' })).toBe(true)
  })
})

describe('evaluateMatches: groups', () => {
  const groups: MatchGroups = [
    {
      conditions: [
        { key: 'caller_state', operator: 'IN', values: ['CA', 'NV'] },
        { key: 'age', operator: 'GREATER_THAN', value: '30' },
      ],
    },
    { conditions: [{ key: 'vip', operator: 'EXISTS' }] },
  ]

  it('no groups: always matched', () => {
    expect(evaluateMatches([], {})).toEqual({ matched: true, failed: [] })
  })

  it('conditions in a group are AND, groups are OR', () => {
    expect(evaluateMatches(groups, { caller_state: 'CA', age: '45' })).toEqual({ matched: true, failed: [] })
    expect(evaluateMatches(groups, { vip: 'yes' })).toEqual({ matched: true, failed: [] })
    expect(evaluateMatches(groups, { caller_state: 'CA', age: '20', vip: '1' }).matched).toBe(true)
    expect(evaluateMatches(groups, { caller_state: 'CA', age: '20' }).matched).toBe(false)
    expect(evaluateMatches(groups, { caller_state: 'TX', age: '45' }).matched).toBe(false)
  })

  it('reports, for every group, the first condition that failed with the actual value', () => {
    const r = evaluateMatches(groups, { caller_state: 'CA', age: '20' })
    expect(r).toEqual({
      matched: false,
      failed: [
        { group: 0, condition: 1, key: 'age', operator: 'GREATER_THAN', expected: '30', actual: '20' },
        { group: 1, condition: 0, key: 'vip', operator: 'EXISTS', expected: null, actual: null },
      ],
    })
  })

  it('reports only the first failing condition of a group, and null for an absent tag', () => {
    const r = evaluateMatches(groups, { age: '10' })
    expect(r.failed[0]).toEqual({ group: 0, condition: 0, key: 'caller_state', operator: 'IN', expected: ['CA', 'NV'], actual: null })
    expect(r.failed).toHaveLength(2)
  })

  it('reports the expected value of a NOT_EXISTS as null and the value that made it fail', () => {
    const r = evaluateMatches([{ conditions: [{ key: 'Do Not Call', operator: 'NOT_EXISTS' }] }], { do_not_call: 'yes' })
    expect(r).toEqual({ matched: false, failed: [{ group: 0, condition: 0, key: 'do_not_call', operator: 'NOT_EXISTS', expected: null, actual: 'yes' }] })
  })
})
