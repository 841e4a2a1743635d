// One pixel (the webhook overview of a firing): status, created time, trigger, endpoint, the request as
// sent, every attempt with its answer, tags applied, unresolved tokens, the note; Resend.
import { useEffect } from 'react'
import { useMutation, useQuery, useSubscription } from 'urql'
import { Link, useLocation } from 'wouter'
import { graphql } from '../graphql.ts'
import { Badge } from '../ui/Badge.tsx'
import { AnswerReceived, AttemptAnswerFields, AttemptBadge, RequestSent, type SentRequest } from '../ui/Exchange.tsx'
import { Empty, ErrorNote, Loading } from '../ui/States.tsx'
import { Duration, Time, WithTimes } from '../ui/Time.tsx'
import { usePageTitle } from '../ui/usePageTitle.ts'
import { useThrottled } from '../ui/useThrottled.ts'
import { KeyValues } from '../ui/KeyValues.tsx'
import { plural, triggerWords } from '../ui/words.ts'

const PixelQuery = graphql(
  `
  query PixelOverview($id: ID!) {
    pixel(id: $id) {
      id
      trigger
      status
      request
      unresolvedTokens
      tagsApplied
      responseNote
      attemptCount
      nextAttemptAt
      createdAt
      completedAt
      webhook {
        id
        name
        trigger
        url
        hasSigningSecret
        circuitState
        circuitReason
        campaign {
          id
          name
        }
      }
      call {
        uuid
        callerNumber
      }
      attempts {
        startedAt
        ...AttemptAnswerFields
      }
    }
  }
`,
  [AttemptAnswerFields],
)

const PixelChanges = graphql(`
  subscription PixelChanges($id: ID!) {
    pixelFired(id: $id) {
      id
      status
    }
  }
`)

const FALLBACK_READ_MS = 15_000

const ResendMutation = graphql(`
  mutation ResendPixel($id: ID!) {
    resendPixel(input: { id: $id }) {
      id
    }
  }
`)

export function PixelOverview({ id }: { id: string }) {
  usePageTitle(`Pixel ${id}`)
  const [result, reexecute] = useQuery({ query: PixelQuery, variables: { id } })
  const [resend, runResend] = useMutation(ResendMutation)
  const [, navigate] = useLocation()
  const pixel = result.data?.pixel
  const unsettled = pixel?.status === 'PENDING' || pixel?.status === 'DELIVERING'

  // a pixel under way (held by its circuit, waiting on a timer or a retry) is read again as it streams an
  // attempt or its end, and now and then in case the stream missed one (while it reconnected)
  const refresh = useThrottled(() => reexecute({ requestPolicy: 'network-only' }), 500)
  useSubscription({ query: PixelChanges, variables: { id }, pause: !unsettled }, (_p, data) => {
    refresh()
    return data
  })
  useEffect(() => {
    if (!unsettled) return
    const timer = setInterval(refresh, FALLBACK_READ_MS)
    return () => clearInterval(timer)
  }, [unsettled, refresh])

  if (result.fetching && !pixel) return <Loading what="Loading the pixel" />
  if (!pixel)
    return (
      <section className="page">
        <h1>Pixel</h1>
        <ErrorNote error={result.error ?? 'No such pixel.'} />
      </section>
    )
  const request = (pixel.request ?? null) as SentRequest | null
  const unresolved = Array.isArray(pixel.unresolvedTokens) ? (pixel.unresolvedTokens as string[]) : []
  const tagsApplied = pixel.tagsApplied && typeof pixel.tagsApplied === 'object' ? Object.entries(pixel.tagsApplied as Record<string, unknown>) : []

  return (
    <section className="page">
      <p className="crumbs">
        <Link href="/calls">Calls</Link> / <Link href={`/calls/${encodeURIComponent(pixel.call.uuid)}`}>{pixel.call.uuid}</Link> / pixel
      </p>
      <div className="heading-row">
        <div>
          <h1>
            {pixel.webhook.name} <Badge value={pixel.status} />
          </h1>
          <p className="lede">
            Fired on {triggerWords(pixel.trigger)} for the call from <span className="mono">{pixel.call.callerNumber}</span>
          </p>
        </div>
        <div className="toolbar">
          <button
            type="button"
            disabled={resend.fetching}
            onClick={async () => {
              const r = await runResend({ id: pixel.id })
              if (r.data) navigate(`/pixels/${r.data.resendPixel.id}`)
            }}
          >
            {resend.fetching ? 'Resending…' : 'Resend'}
          </button>
          <Link href={`/webhooks/${pixel.webhook.id}`} className="button secondary">
            Webhook settings
          </Link>
        </div>
      </div>
      <ErrorNote error={resend.error} />
      <ErrorNote error={result.error} />
      {pixel.responseNote && (
        <p className={pixel.status === 'FAILED' ? 'warn' : 'notice'}>
          <strong>Note:</strong> <WithTimes text={pixel.responseNote} />
        </p>
      )}
      {unresolved.length > 0 && (
        <p className="warn">
          <strong>Unresolved tokens</strong> (sent empty): <span className="mono">{unresolved.join(', ')}</span>
        </p>
      )}
      <div className="grid2">
        <div className="panel">
          <h2>Pixel</h2>
          <dl className="facts">
            <dt>Status</dt>
            <dd>
              <Badge value={pixel.status} />{' '}
              {pixel.completedAt && (
                <>
                  at <Time at={pixel.completedAt} />
                </>
              )}
            </dd>
            <dt>Created</dt>
            <dd>
              <Time at={pixel.createdAt} />
            </dd>
            <dt>Trigger</dt>
            <dd>{triggerWords(pixel.trigger)}</dd>
            <dt>Endpoint</dt>
            <dd className="mono">{request?.url ?? pixel.webhook.url}</dd>
            <dt>Attempts</dt>
            <dd>
              {plural(pixel.attemptCount, 'attempt')}
              {pixel.nextAttemptAt && unsettled && (
                <>
                  ; next at <Time at={pixel.nextAttemptAt} />
                </>
              )}
            </dd>
            <dt>Call</dt>
            <dd>
              <Link href={`/calls/${encodeURIComponent(pixel.call.uuid)}`} className="mono">
                {pixel.call.uuid}
              </Link>
            </dd>
            <dt>Campaign</dt>
            <dd>
              <Link href={`/campaigns/${pixel.webhook.campaign.id}`}>{pixel.webhook.campaign.name}</Link>
            </dd>
            <dt>Circuit</dt>
            <dd>
              <Badge value={pixel.webhook.circuitState} /> {pixel.webhook.circuitReason && <WithTimes text={pixel.webhook.circuitReason} />}
            </dd>
          </dl>
        </div>
        <div className="panel">
          <h2>Tags applied</h2>
          {tagsApplied.length === 0 ? <Empty>The response wrote no tags on the call.</Empty> : <KeyValues pairs={tagsApplied} />}
        </div>
      </div>
      <div className="panel">
        <h2>Request</h2>
        {request ? (
          <RequestSent request={request} pixelId={pixel.id} signed={pixel.webhook.hasSigningSecret} bodyLabel="request body" />
        ) : (
          <Empty>Not rendered yet: the request is rendered at the first attempt.</Empty>
        )}
      </div>
      <div className="panel">
        <h2>Attempts</h2>
        {pixel.attempts.length === 0 ? (
          <Empty>{unsettled ? 'No attempt yet; this page updates when one is made.' : 'No attempt was made.'}</Empty>
        ) : (
          pixel.attempts.map((a) => (
            <details key={a.number} className="attempt" open={a.number === pixel.attempts.length}>
              <summary>
                Attempt {a.number}: <AttemptBadge attempt={a} /> at <Time at={a.startedAt} /> (<Duration ms={a.durationMs} />)
              </summary>
              <AnswerReceived answer={a} bodyLabel={`response body ${a.number}`} />
            </details>
          ))
        )}
      </div>
    </section>
  )
}
