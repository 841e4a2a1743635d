// The webhook configuration form (create and edit). The API checks every field; its errors are shown at the
// field they name (extensions.field: `url`, `headers[1].name`, `circuitBreaker.windowSeconds`, …).
import { useState } from 'react'
import type { CombinedError } from 'urql'
import { graphql, type ResultOf } from '../graphql.ts'
import { ErrorNote, fieldErrors } from '../ui/States.tsx'
import { OPERATOR_WORDS, TRIGGER_WORDS } from '../ui/words.ts'

/** What the form starts from: the webhook's settings as the API answers them. */
export const WebhookSettingsFields = graphql(`
  fragment WebhookSettingsFields on Webhook @_unmask {
    name
    enabled
    trigger
    timerSeconds
    matches {
      conditions {
        key
        operator
        value
        values
      }
    }
    method
    url
    headers {
      name
      value
    }
    body
    bodyType
    timeoutMs
    maxAttempts
    retryBaseDelayMs
    responseMapping {
      mode
      prefix
      paths {
        path
        tag
      }
    }
    dedupeWindowSeconds
    hasSigningSecret
    circuitBreaker {
      enabled
      failureRatePercent
      minAttempts
      windowSeconds
      cooldownSeconds
      maxCooldownSeconds
      disableAfterFailingSeconds
      disableAfterTrips
      disableOnGone
    }
    maxPerSecond
    maxInFlight
  }
`)

export type WebhookValues = ResultOf<typeof WebhookSettingsFields>

const TRIGGERS = ['CALL_START', 'ANSWERED', 'CALL_END', 'CONVERSION', 'TIMER']
const METHODS = ['POST', 'GET', 'PUT', 'PATCH', 'DELETE']
const BODY_TYPES = ['JSON', 'FORM', 'TEXT']
const OPERATORS = Object.keys(OPERATOR_WORDS)

type Condition = { rid: number; key: string; operator: string; value: string }

// rows of the editable lists carry an id of their own, so removing one keeps the others' inputs in place
let lastRowId = 0
const rowId = () => ++lastRowId
const BREAKER_NUMBERS = [
  'failureRatePercent',
  'minAttempts',
  'windowSeconds',
  'cooldownSeconds',
  'maxCooldownSeconds',
  'disableAfterFailingSeconds',
  'disableAfterTrips',
] as const

interface FormState {
  name: string
  enabled: boolean
  trigger: string
  timerSeconds: string
  matches: { rid: number; conditions: Condition[] }[]
  method: string
  url: string
  headers: { rid: number; name: string; value: string }[]
  body: string
  bodyType: string
  timeoutMs: string
  maxAttempts: string
  retryBaseDelayMs: string
  mappingMode: string
  mappingPrefix: string
  mappingPaths: { rid: number; path: string; tag: string }[]
  dedupeWindowSeconds: string
  signingSecret: string
  removeSecret: boolean
  breakerEnabled: boolean
  disableOnGone: boolean
  breaker: Record<(typeof BREAKER_NUMBERS)[number], string>
  maxPerSecond: string
  maxInFlight: string
}

const text = (n: number | null | undefined) => (n == null ? '' : String(n))

function initialState(w: WebhookValues | null): FormState {
  const b = w?.circuitBreaker
  return {
    name: w?.name ?? '',
    enabled: w?.enabled ?? true,
    trigger: w?.trigger ?? 'CALL_END',
    timerSeconds: text(w?.timerSeconds),
    matches: (w?.matches ?? []).map((g) => ({
      rid: rowId(),
      conditions: g.conditions.map((c) => ({
        rid: rowId(),
        key: c.key,
        operator: c.operator,
        value: c.operator === 'IN' ? (c.values ?? []).join(', ') : (c.value ?? ''),
      })),
    })),
    method: w?.method ?? 'POST',
    url: w?.url ?? '',
    headers: w?.headers.map((h) => ({ rid: rowId(), name: h.name, value: h.value })) ?? [],
    body: w?.body ?? '',
    bodyType: w?.bodyType ?? 'JSON',
    timeoutMs: text(w?.timeoutMs),
    maxAttempts: text(w?.maxAttempts),
    retryBaseDelayMs: text(w?.retryBaseDelayMs),
    mappingMode: w?.responseMapping?.mode ?? '',
    mappingPrefix: w?.responseMapping?.prefix ?? '',
    mappingPaths: w?.responseMapping?.paths.map((p) => ({ rid: rowId(), path: p.path, tag: p.tag })) ?? [],
    dedupeWindowSeconds: text(w?.dedupeWindowSeconds),
    signingSecret: '',
    removeSecret: false,
    breakerEnabled: b?.enabled ?? true,
    disableOnGone: b?.disableOnGone ?? true,
    breaker: Object.fromEntries(BREAKER_NUMBERS.map((k) => [k, text(b?.[k])])) as FormState['breaker'],
    maxPerSecond: text(w?.maxPerSecond),
    maxInFlight: text(w?.maxInFlight),
  }
}

/** The form -> the mutation's input; whole numbers are checked here, everything else by the API. */
function toInput(s: FormState, isNew: boolean): { input: Record<string, unknown>; errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const int = (field: string, v: string): number | null | undefined => {
    if (v.trim() === '') return null
    const n = Number(v)
    if (!Number.isInteger(n)) {
      errors[field] = `${field}: must be a whole number`
      return undefined
    }
    return n
  }
  const input: Record<string, unknown> = {
    name: s.name,
    enabled: s.enabled,
    trigger: s.trigger,
    matches: s.matches
      .filter((g) => g.conditions.length)
      .map((g) => ({
        conditions: g.conditions.map((c) => ({
          key: c.key,
          operator: c.operator,
          ...(c.operator === 'IN'
            ? {
                values: c.value
                  .split(',')
                  .map((v) => v.trim())
                  .filter(Boolean),
              }
            : c.operator === 'EXISTS' || c.operator === 'NOT_EXISTS'
              ? {}
              : { value: c.value }),
        })),
      })),
    method: s.method,
    url: s.url,
    headers: s.headers.map(({ name, value }) => ({ name, value })),
    body: s.body === '' ? null : s.body,
    bodyType: s.bodyType,
    responseMapping: s.mappingMode
      ? {
          mode: s.mappingMode,
          prefix: s.mappingPrefix || null,
          ...(s.mappingMode === 'PATHS' ? { paths: s.mappingPaths.map(({ path, tag }) => ({ path, tag })) } : {}),
        }
      : null,
    dedupeWindowSeconds: int('dedupeWindowSeconds', s.dedupeWindowSeconds),
    maxPerSecond: int('maxPerSecond', s.maxPerSecond),
    maxInFlight: int('maxInFlight', s.maxInFlight),
  }
  const breaker: Record<string, unknown> = { enabled: s.breakerEnabled, disableOnGone: s.disableOnGone }
  for (const k of BREAKER_NUMBERS) {
    const v = int(`circuitBreaker.${k}`, s.breaker[k])
    // empty: the default; on an edit, an emptied "disable after" means never
    if (v != null) breaker[k] = v
    else if (v === null && !isNew && k.startsWith('disableAfter')) breaker[k] = null
  }
  input.circuitBreaker = breaker
  if (s.trigger === 'TIMER') input.timerSeconds = int('timerSeconds', s.timerSeconds)
  for (const k of ['timeoutMs', 'maxAttempts', 'retryBaseDelayMs'] as const) {
    const v = int(k, s[k])
    // left empty: the default when creating, unchanged when editing
    if (v != null) input[k] = v
  }
  if (s.removeSecret) input.signingSecret = null
  else if (s.signingSecret) input.signingSecret = s.signingSecret
  if (isNew && input.signingSecret === null) delete input.signingSecret
  return { input, errors }
}

export function WebhookForm({
  initial,
  warnings,
  saving,
  error,
  savedNotice,
  onSubmit,
}: {
  initial: WebhookValues | null
  warnings?: string[]
  saving: boolean
  error: CombinedError | undefined
  savedNotice?: string | null
  onSubmit: (input: Record<string, unknown>) => void
}) {
  const [s, setS] = useState<FormState>(() => initialState(initial))
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({})
  const apiErrors = fieldErrors(error)
  const errors = { ...apiErrors, ...localErrors }
  const unplaced = error && Object.keys(apiErrors).length === 0 ? error : undefined
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setS((prev) => ({ ...prev, [k]: v }))
  const isNew = initial === null

  const submit = (e: React.FormEvent) => {
    e.preventDefault()
    const { input, errors: local } = toInput(s, isNew)
    setLocalErrors(local)
    if (Object.keys(local).length) return focusFirstError()
    onSubmit(input)
  }

  return (
    <form className="webhook-form" onSubmit={submit} noValidate aria-label={isNew ? 'New webhook' : 'Webhook settings'}>
      {Object.keys(errors).length > 0 && (
        <p className="error" role="alert">
          The webhook was not saved: {Object.values(errors)[0]}
        </p>
      )}
      <ErrorNote error={unplaced} />
      {savedNotice && (
        <p className="notice" role="status">
          {savedNotice}
        </p>
      )}
      {warnings && warnings.length > 0 && (
        <ul className="warn">
          {warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <fieldset>
        <legend>When it fires</legend>
        <div className="form-grid">
          <Field name="name" label="Name" errors={errors}>
            {(p) => <input {...p} value={s.name} onChange={(e) => set('name', e.target.value)} />}
          </Field>
          <Field name="trigger" label="Trigger" errors={errors}>
            {(p) => (
              <select {...p} value={s.trigger} onChange={(e) => set('trigger', e.target.value)}>
                {TRIGGERS.map((t) => (
                  <option key={t} value={t}>
                    {TRIGGER_WORDS[t]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {s.trigger === 'TIMER' && (
            <Field name="timerSeconds" label="Timer (seconds into the answered call)" errors={errors}>
              {(p) => <input {...p} inputMode="numeric" value={s.timerSeconds} onChange={(e) => set('timerSeconds', e.target.value)} />}
            </Field>
          )}
          <div className="checkbox">
            <input id="wh-enabled" type="checkbox" checked={s.enabled} onChange={(e) => set('enabled', e.target.checked)} />{' '}
            <label htmlFor="wh-enabled">Enabled</label>
          </div>
        </div>
        <h3>Matches</h3>
        <p className="hint">A webhook fires when any group holds; a group holds when all its conditions hold. No conditions: every call.</p>
        {s.matches.map((g, gi) => (
          <div className="group" key={g.rid}>
            <p className="muted">{gi === 0 ? 'Fire when' : 'or when'}</p>
            {errors[`matches[${gi}].conditions`] && <p className="field-error">{errors[`matches[${gi}].conditions`]}</p>}
            {g.conditions.map((c, ci) => {
              const at = `matches[${gi}].conditions[${ci}]`
              const update = (patch: Partial<Condition>) =>
                set(
                  'matches',
                  s.matches.map((gg, i) => (i === gi ? { ...gg, conditions: gg.conditions.map((cc, j) => (j === ci ? { ...cc, ...patch } : cc)) } : gg)),
                )
              return (
                <div className="row" key={c.rid}>
                  <Field name={`${at}.key`} label="Tag key" errors={errors}>
                    {(p) => <input {...p} value={c.key} onChange={(e) => update({ key: e.target.value })} />}
                  </Field>
                  <Field name={`${at}.operator`} label="Operator" errors={errors}>
                    {(p) => (
                      <select {...p} value={c.operator} onChange={(e) => update({ operator: e.target.value })}>
                        {OPERATORS.map((o) => (
                          <option key={o} value={o}>
                            {OPERATOR_WORDS[o]}
                          </option>
                        ))}
                      </select>
                    )}
                  </Field>
                  {c.operator !== 'EXISTS' && c.operator !== 'NOT_EXISTS' && (
                    <Field
                      name={c.operator === 'IN' ? `${at}.values` : `${at}.value`}
                      label={c.operator === 'IN' ? 'Values (comma-separated)' : 'Value'}
                      errors={errors}
                    >
                      {(p) => <input {...p} value={c.value} onChange={(e) => update({ value: e.target.value })} />}
                    </Field>
                  )}
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Remove condition ${ci + 1} of group ${gi + 1}`}
                    onClick={() =>
                      set(
                        'matches',
                        s.matches.map((gg, i) => (i === gi ? { ...gg, conditions: gg.conditions.filter((_, j) => j !== ci) } : gg)),
                      )
                    }
                  >
                    Remove
                  </button>
                </div>
              )
            })}
            <button
              type="button"
              className="secondary"
              onClick={() =>
                set(
                  'matches',
                  s.matches.map((gg, i) =>
                    i === gi ? { ...gg, conditions: [...gg.conditions, { rid: rowId(), key: '', operator: 'EQUALS', value: '' }] } : gg,
                  ),
                )
              }
            >
              Add condition (and)
            </button>
          </div>
        ))}
        <button
          type="button"
          className="secondary"
          onClick={() => set('matches', [...s.matches, { rid: rowId(), conditions: [{ rid: rowId(), key: '', operator: 'EQUALS', value: '' }] }])}
        >
          {s.matches.length ? 'Add group (or)' : 'Add condition'}
        </button>
        <Field name="dedupeWindowSeconds" label="Dedupe window (seconds; fire at most once per caller in it)" errors={errors}>
          {(p) => (
            <input {...p} inputMode="numeric" value={s.dedupeWindowSeconds} onChange={(e) => set('dedupeWindowSeconds', e.target.value)} placeholder="none" />
          )}
        </Field>
      </fieldset>

      <fieldset>
        <legend>What it sends</legend>
        <p className="hint">
          Tokens in [brackets]: <code>[caller_number]</code>, <code>[call_uuid]</code>, any tag key, fallbacks <code>[a|b]</code>.
        </p>
        <div className="form-grid">
          <Field name="method" label="Method" errors={errors}>
            {(p) => (
              <select {...p} value={s.method} onChange={(e) => set('method', e.target.value)}>
                {METHODS.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            )}
          </Field>
          <Field name="url" label="URL" errors={errors} wide>
            {(p) => <input {...p} value={s.url} onChange={(e) => set('url', e.target.value)} placeholder="https://buyer.example/ping?caller=[caller_number]" />}
          </Field>
        </div>
        <h3>Headers</h3>
        {s.headers.map((h, i) => (
          <div className="row" key={h.rid}>
            <Field name={`headers[${i}].name`} label="Header name" errors={errors}>
              {(p) => (
                <input
                  {...p}
                  value={h.name}
                  onChange={(e) =>
                    set(
                      'headers',
                      s.headers.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)),
                    )
                  }
                />
              )}
            </Field>
            <Field name={`headers[${i}].value`} label="Header value" errors={errors}>
              {(p) => (
                <input
                  {...p}
                  value={h.value}
                  onChange={(e) =>
                    set(
                      'headers',
                      s.headers.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)),
                    )
                  }
                />
              )}
            </Field>
            <button
              type="button"
              className="secondary"
              aria-label={`Remove header ${i + 1}`}
              onClick={() =>
                set(
                  'headers',
                  s.headers.filter((_, j) => j !== i),
                )
              }
            >
              Remove
            </button>
          </div>
        ))}
        <button type="button" className="secondary" onClick={() => set('headers', [...s.headers, { rid: rowId(), name: '', value: '' }])}>
          Add header
        </button>
        <div className="form-grid" style={{ marginTop: '0.75rem' }}>
          <Field name="bodyType" label="Body type" errors={errors}>
            {(p) => (
              <select {...p} value={s.bodyType} onChange={(e) => set('bodyType', e.target.value)}>
                {BODY_TYPES.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            )}
          </Field>
          <Field name="body" label="Body" errors={errors} wide>
            {(p) => <textarea {...p} rows={5} value={s.body} onChange={(e) => set('body', e.target.value)} placeholder='{"caller": "[caller_number]"}' />}
          </Field>
        </div>
      </fieldset>

      <fieldset>
        <legend>What it does with the answer</legend>
        <div className="form-grid">
          <Field name="responseMapping.mode" label="Response to tags" errors={errors}>
            {(p) => (
              <select {...p} value={s.mappingMode} onChange={(e) => set('mappingMode', e.target.value)}>
                <option value="">none</option>
                <option value="ALL">every scalar field of a JSON answer</option>
                <option value="PATHS">only the mapped paths</option>
              </select>
            )}
          </Field>
          {s.mappingMode && (
            <Field name="responseMapping.prefix" label="Tag prefix" errors={errors}>
              {(p) => <input {...p} value={s.mappingPrefix} onChange={(e) => set('mappingPrefix', e.target.value)} placeholder="buyer_" />}
            </Field>
          )}
        </div>
        {s.mappingMode === 'PATHS' && (
          <>
            {errors['responseMapping.paths'] && <p className="field-error">{errors['responseMapping.paths']}</p>}
            {s.mappingPaths.map((m, i) => (
              <div className="row" key={m.rid}>
                <Field name={`responseMapping.paths[${i}].path`} label="JSON path" errors={errors}>
                  {(p) => (
                    <input
                      {...p}
                      value={m.path}
                      onChange={(e) =>
                        set(
                          'mappingPaths',
                          s.mappingPaths.map((x, j) => (j === i ? { ...x, path: e.target.value } : x)),
                        )
                      }
                    />
                  )}
                </Field>
                <Field name={`responseMapping.paths[${i}].tag`} label="Tag key" errors={errors}>
                  {(p) => (
                    <input
                      {...p}
                      value={m.tag}
                      onChange={(e) =>
                        set(
                          'mappingPaths',
                          s.mappingPaths.map((x, j) => (j === i ? { ...x, tag: e.target.value } : x)),
                        )
                      }
                    />
                  )}
                </Field>
                <button
                  type="button"
                  className="secondary"
                  aria-label={`Remove path ${i + 1}`}
                  onClick={() =>
                    set(
                      'mappingPaths',
                      s.mappingPaths.filter((_, j) => j !== i),
                    )
                  }
                >
                  Remove
                </button>
              </div>
            ))}
            <button type="button" className="secondary" onClick={() => set('mappingPaths', [...s.mappingPaths, { rid: rowId(), path: '', tag: '' }])}>
              Add path
            </button>
          </>
        )}
      </fieldset>

      <fieldset>
        <legend>Delivery</legend>
        <div className="form-grid">
          <Field name="timeoutMs" label="Timeout (ms)" errors={errors}>
            {(p) => <input {...p} inputMode="numeric" value={s.timeoutMs} onChange={(e) => set('timeoutMs', e.target.value)} placeholder="5000" />}
          </Field>
          <Field name="maxAttempts" label="Attempts at most" errors={errors}>
            {(p) => <input {...p} inputMode="numeric" value={s.maxAttempts} onChange={(e) => set('maxAttempts', e.target.value)} placeholder="5" />}
          </Field>
          <Field name="retryBaseDelayMs" label="First retry delay (ms)" errors={errors}>
            {(p) => (
              <input {...p} inputMode="numeric" value={s.retryBaseDelayMs} onChange={(e) => set('retryBaseDelayMs', e.target.value)} placeholder="1000" />
            )}
          </Field>
          <Field name="maxPerSecond" label="Requests a second at most" errors={errors}>
            {(p) => <input {...p} inputMode="numeric" value={s.maxPerSecond} onChange={(e) => set('maxPerSecond', e.target.value)} placeholder="no limit" />}
          </Field>
          <Field name="maxInFlight" label="Requests under way at most" errors={errors}>
            {(p) => <input {...p} inputMode="numeric" value={s.maxInFlight} onChange={(e) => set('maxInFlight', e.target.value)} placeholder="no limit" />}
          </Field>
          <Field name="signingSecret" label={`Signing secret (write-only)${initial?.hasSigningSecret ? ': one is set' : ''}`} errors={errors}>
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete="off"
                value={s.signingSecret}
                onChange={(e) => set('signingSecret', e.target.value)}
                placeholder={initial?.hasSigningSecret ? 'leave empty to keep it' : 'whsec_…'}
              />
            )}
          </Field>
          {initial?.hasSigningSecret && (
            <div className="checkbox">
              <input id="wh-remove-secret" type="checkbox" checked={s.removeSecret} onChange={(e) => set('removeSecret', e.target.checked)} />{' '}
              <label htmlFor="wh-remove-secret">Remove the signing secret</label>
            </div>
          )}
        </div>
      </fieldset>

      <fieldset>
        <legend>Circuit breaker</legend>
        <p className="hint">When too many attempts fail, pixels wait (they are not dropped) and one probe goes after a cool-down. Empty: the default.</p>
        <div className="form-grid">
          <div className="checkbox">
            <input id="wh-breaker-enabled" type="checkbox" checked={s.breakerEnabled} onChange={(e) => set('breakerEnabled', e.target.checked)} />{' '}
            <label htmlFor="wh-breaker-enabled">Breaker on</label>
          </div>
          <div className="checkbox">
            <input id="wh-disable-on-gone" type="checkbox" checked={s.disableOnGone} onChange={(e) => set('disableOnGone', e.target.checked)} />{' '}
            <label htmlFor="wh-disable-on-gone">410 Gone disables the webhook</label>
          </div>
          {(
            [
              ['failureRatePercent', 'Trips at failure rate (%)', '70'],
              ['minAttempts', '…with at least this many attempts', '10'],
              ['windowSeconds', 'Window (seconds, whole minutes)', '300'],
              ['cooldownSeconds', 'Cool-down before a probe (s)', '30'],
              ['maxCooldownSeconds', 'Longest cool-down (s)', '900'],
              ['disableAfterFailingSeconds', 'Disable after failing for (s)', isNew ? '432000' : 'never'],
              ['disableAfterTrips', 'Disable after trips', 'never'],
            ] as const
          ).map(([k, label, placeholder]) => (
            <Field key={k} name={`circuitBreaker.${k}`} label={label} errors={errors}>
              {(p) => (
                <input
                  {...p}
                  inputMode="numeric"
                  value={s.breaker[k]}
                  onChange={(e) => set('breaker', { ...s.breaker, [k]: e.target.value })}
                  placeholder={placeholder}
                />
              )}
            </Field>
          ))}
        </div>
      </fieldset>
      <div className="toolbar">
        <button type="submit" disabled={saving}>
          {saving ? 'Saving…' : isNew ? 'Create webhook' : 'Save changes'}
        </button>
      </div>
    </form>
  )
}

const fieldId = (name: string) => `wh-${name.replace(/[^a-zA-Z0-9]+/g, '-')}`

/** Moves the keyboard to the first field the API (or the form) found wrong. */
export function focusFirstError() {
  requestAnimationFrame(() => {
    const el = document.querySelector<HTMLElement>('.webhook-form [aria-invalid="true"]')
    el?.focus()
    el?.scrollIntoView({ block: 'center' })
  })
}

type FieldProps = { id: string; name: string; 'aria-invalid'?: true; 'aria-describedby'?: string }

function Field({
  name,
  label,
  errors,
  wide,
  children,
}: {
  name: string
  label: string
  errors: Record<string, string>
  wide?: boolean
  children: (props: FieldProps) => React.ReactNode
}) {
  const id = fieldId(name)
  const error = errors[name]
  return (
    <div className={`form-field${wide ? ' wide' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, name, ...(error ? { 'aria-invalid': true as const, 'aria-describedby': `${id}-error` } : {}) })}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error.replace(/^[\w.[\]]+: /, '')}
        </p>
      )}
    </div>
  )
}
