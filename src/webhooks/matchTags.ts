// A webhook's match conditions against a call's tags, with the report "why did my webhook not fire":
// for each group, the first condition that failed and the value the call had.
import type { MatchCondition, MatchGroups } from './webhookConfig.js'
import { normaliseTagKey } from '../core/tags.js'

export interface FailedMatch {
  group: number
  condition: number
  key: string
  operator: string
  expected: string | string[] | null
  actual: string | null
}

export interface MatchResult {
  matched: boolean
  /** empty when matched; otherwise one entry per group */
  failed: FailedMatch[]
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase()

/** A number, or null for a missing, blank or non-numeric value (`Number('')` would be 0). */
function numberOf(value: string | null | undefined): number | null {
  if (value == null || value.trim() === '') return null
  const n = Number(value.trim())
  return Number.isFinite(n) ? n : null
}

/** The call's value for the condition's tag; an empty value counts as no tag. */
function actualValue(c: MatchCondition, tags: Record<string, string>): string | null {
  const key = normaliseTagKey(c.key)
  return Object.hasOwn(tags, key) && tags[key].trim() !== '' ? tags[key] : null
}

export function conditionHolds(c: MatchCondition, actual: string | null): boolean {
  const expected = c.value ?? ''
  switch (c.operator) {
    case 'EQUALS':
      return actual !== null && same(actual, expected)
    // a call without the tag is not equal to the value
    case 'NOT_EQUALS':
      return actual === null || !same(actual, expected)
    case 'EXISTS':
      return actual !== null
    case 'NOT_EXISTS':
      return actual === null
    case 'IN':
      return actual !== null && (c.values ?? []).some((v) => same(actual, v))
    case 'CONTAINS':
      return actual?.toLowerCase().includes(expected.toLowerCase()) ?? false
    case 'GREATER_THAN':
    case 'LESS_THAN': {
      const a = numberOf(actual)
      const e = numberOf(c.value)
      if (a === null || e === null) return false
      return c.operator === 'GREATER_THAN' ? a > e : a < e
    }
  }
}

function expectedOf(c: MatchCondition): string | string[] | null {
  if (c.operator === 'IN') return c.values ?? []
  if (c.operator === 'EXISTS' || c.operator === 'NOT_EXISTS') return null
  return c.value ?? null
}

export function evaluateMatches(groups: MatchGroups, tags: Record<string, string>): MatchResult {
  if (groups.length === 0) return { matched: true, failed: [] }
  const failed: FailedMatch[] = []
  for (const [g, group] of groups.entries()) {
    const firstFailed = group.conditions.findIndex((c) => !conditionHolds(c, actualValue(c, tags)))
    if (firstFailed === -1) return { matched: true, failed: [] }
    const c = group.conditions[firstFailed]!
    failed.push({ group: g, condition: firstFailed, key: normaliseTagKey(c.key), operator: c.operator, expected: expectedOf(c), actual: actualValue(c, tags) })
  }
  return { matched: false, failed }
}
