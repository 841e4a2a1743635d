// Test fire: the webhook once, now, against a call or sample tags; shows the request sent and the answer.
import { useState } from 'react'
import { useMutation } from 'urql'
import { Link } from 'wouter'
import { graphql } from '../graphql.ts'
import { Badge } from '../ui/Badge.tsx'
import { AnswerReceived, AttemptAnswerFields, AttemptBadge, RequestSent, type SentRequest } from '../ui/Exchange.tsx'
import { ErrorNote } from '../ui/States.tsx'
import { WithTimes } from '../ui/Time.tsx'

const TestFireMutation = graphql(
  `
  mutation TestFire($input: TestFireWebhookInput!) {
    testFireWebhook(input: $input) {
      id
      status
      request
      unresolvedTokens
      tagsApplied
      responseNote
      webhook {
        id
        hasSigningSecret
      }
      attempts {
        ...AttemptAnswerFields
      }
    }
  }
`,
  [AttemptAnswerFields],
)

let lastRowId = 0
const rowId = () => ++lastRowId

export function TestFire({ webhookId }: { webhookId: string }) {
  const [callUuid, setCallUuid] = useState('')
  const [tags, setTags] = useState<{ rid: number; key: string; value: string }[]>([{ rid: rowId(), key: '', value: '' }])
  const [fired, fire] = useMutation(TestFireMutation)
  const pixel = fired.data?.testFireWebhook
  const request = (pixel?.request ?? null) as SentRequest | null
  const attempt = pixel?.attempts.at(-1)
  const unresolved = Array.isArray(pixel?.unresolvedTokens) ? (pixel.unresolvedTokens as string[]) : []

  return (
    <div>
      <form
        className="panel"
        aria-label="Test fire"
        onSubmit={(e) => {
          e.preventDefault()
          const sample = tags.filter((t) => t.key.trim()).map(({ key, value }) => ({ key, value }))
          fire({ input: { webhookId, ...(callUuid.trim() ? { callUuid: callUuid.trim() } : {}), ...(sample.length ? { tags: sample } : {}) } })
        }}
      >
        <p className="hint">Sends one request now (no retries). Without a call, a sample call is made; sample tags are written on the call first.</p>
        <div className="form-grid">
          <div className="form-field">
            <label htmlFor="test-call">Call UUID (optional)</label>
            <input id="test-call" value={callUuid} onChange={(e) => setCallUuid(e.target.value)} placeholder="a call of this campaign" />
          </div>
        </div>
        <h3>Sample tags</h3>
        {tags.map((t, i) => (
          <div className="row" key={t.rid}>
            <div>
              <label htmlFor={`test-tag-key-${i}`}>Tag key</label>
              <input id={`test-tag-key-${i}`} value={t.key} onChange={(e) => setTags(tags.map((x, j) => (j === i ? { ...x, key: e.target.value } : x)))} />
            </div>
            <div>
              <label htmlFor={`test-tag-value-${i}`}>Tag value</label>
              <input
                id={`test-tag-value-${i}`}
                value={t.value}
                onChange={(e) => setTags(tags.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))}
              />
            </div>
            <button type="button" className="secondary" aria-label={`Remove sample tag ${i + 1}`} onClick={() => setTags(tags.filter((_, j) => j !== i))}>
              Remove
            </button>
          </div>
        ))}
        <div className="toolbar">
          <button type="button" className="secondary" onClick={() => setTags([...tags, { rid: rowId(), key: '', value: '' }])}>
            Add tag
          </button>
          <button type="submit" disabled={fired.fetching}>
            {fired.fetching ? 'Firing…' : 'Test fire'}
          </button>
        </div>
      </form>
      <ErrorNote error={fired.error} />
      {pixel && (
        <section className="grid2" aria-label="Test fire result">
          <div className="panel">
            <h2>
              Request sent <Badge value={pixel.status} />
            </h2>
            {unresolved.length > 0 && (
              <p className="warn">
                Unresolved tokens (sent empty): <span className="mono">{unresolved.join(', ')}</span>
              </p>
            )}
            {request ? (
              <RequestSent request={request} pixelId={pixel.id} signed={pixel.webhook.hasSigningSecret} bodyLabel="test request body" />
            ) : (
              <p className="muted">{pixel.responseNote ? <WithTimes text={pixel.responseNote} /> : 'No request was sent.'}</p>
            )}
            <p>
              <Link href={`/pixels/${pixel.id}`}>Open the test pixel</Link>
            </p>
          </div>
          <div className="panel">
            <h2>Response</h2>
            {attempt ? (
              <>
                <p>
                  <AttemptBadge attempt={attempt} />
                </p>
                <AnswerReceived answer={attempt} bodyLabel="test response body" />
              </>
            ) : (
              <p className="muted">No answer.</p>
            )}
            {pixel.responseNote && (
              <p className="notice">
                <WithTimes text={pixel.responseNote} />
              </p>
            )}
            {pixel.tagsApplied != null && Object.keys(pixel.tagsApplied as object).length > 0 && (
              <p>
                Tags written on the call:{' '}
                <span className="mono">
                  {Object.entries(pixel.tagsApplied as Record<string, unknown>)
                    .map(([k, v]) => `${k}:${String(v)}`)
                    .join(', ')}
                </span>
              </p>
            )}
          </div>
        </section>
      )}
    </div>
  )
}
