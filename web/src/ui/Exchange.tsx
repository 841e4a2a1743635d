// A webhook's request as sent and an attempt's answer: the pixel page and a test fire show them alike.
import { graphql, type ResultOf } from '../graphql.ts'
import { Badge } from './Badge.tsx'
import { BodyBlock, HeadersBlock } from './Code.tsx'
import { attemptWords } from './words.ts'

/** Pixel.request: the request as rendered, before the headers each attempt adds */
export type SentRequest = { method?: string; url?: string; headers?: unknown; body?: string | null }

/** What an attempt's badge and answer show, as the API answers it (spread into the pages' queries). */
export const AttemptAnswerFields = graphql(`
  fragment AttemptAnswerFields on PixelAttempt @_unmask {
    number
    durationMs
    statusCode
    responseHeaders
    responseBody
    responseTruncated
    error
  }
`)

type Answer = ResultOf<typeof AttemptAnswerFields>
type Attempt = Pick<Answer, 'statusCode' | 'durationMs' | 'error'>

export function RequestSent({ request, pixelId, signed, bodyLabel }: { request: SentRequest; pixelId: string; signed: boolean; bodyLabel: string }) {
  return (
    <>
      <p className="mono break">
        <strong>{request.method}</strong> {request.url}
      </p>
      <h3>Headers</h3>
      <HeadersBlock headers={request.headers} />
      {/* the API keeps the rendered request, not each attempt's own headers: named, never made up */}
      <p className="hint">
        Each attempt also sent <span className="mono">webhook-id: {pixelId}</span> and <span className="mono">webhook-timestamp</span> (its own time)
        {signed && (
          <>
            {' '}
            and <span className="mono">webhook-signature</span>
          </>
        )}
        ; their values per attempt are not recorded.
      </p>
      <h3>Body</h3>
      <BodyBlock text={request.body} label={bodyLabel} />
    </>
  )
}

/** "HTTP 200 in 12 ms" as a badge, green for a 2xx. */
export function AttemptBadge({ attempt }: { attempt: Attempt }) {
  const ok = attempt.statusCode != null && attempt.statusCode >= 200 && attempt.statusCode < 300
  return <Badge tone={ok ? 'ok' : 'bad'}>{attemptWords(attempt)}</Badge>
}

export function AnswerReceived({ answer, bodyLabel }: { answer: Answer; bodyLabel: string }) {
  return (
    <>
      {answer.error && <p className="error">{answer.error}</p>}
      <h3>Response headers</h3>
      <HeadersBlock headers={answer.responseHeaders} />
      <h3>Response body{answer.responseTruncated && ' (truncated at 64 KB)'}</h3>
      <BodyBlock text={answer.responseBody} label={bodyLabel} />
    </>
  )
}
