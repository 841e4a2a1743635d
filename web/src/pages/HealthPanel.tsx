// A webhook's endpoint health over an hour, a day or a week (success rate and latency percentiles over
// time, failures by kind, last success and failure), its circuit with the reason and history, Re-enable,
// and its latest pixels. A circuit change streams in (webhookHealthChanged) and the panel reads again.
import { useMemo } from 'react'
import { useMutation, useQuery, useSubscription } from 'urql'
import { Link, useSearchParams } from 'wouter'
import { graphql } from '../graphql.ts'
import { Badge } from '../ui/Badge.tsx'
import { Empty, ErrorNote, Loading } from '../ui/States.tsx'
import { type Line, TimeChart } from '../ui/TimeChart.tsx'
import { Time, WithTimes } from '../ui/Time.tsx'
import { plural, triggerWords } from '../ui/words.ts'

const HealthQuery = graphql(`
  query WebhookHealth($id: ID!, $window: HealthWindow) {
    webhook(id: $id) {
      id
      enabled
      circuitState
      circuitReason
      circuitChangedAt
      circuitProbeAt
      circuitTrips
      failingSince
      health(window: $window) {
        from
        to
        attempts
        successes
        successRate
        lastSuccessAt
        lastFailureAt
        latencyMs {
          p50
          p95
          p99
        }
        failures {
          timeout
          network
          http4xx
          http429
          http5xx
          httpOther
          refused
          total
        }
        series {
          at
          attempts
          successRate
          latencyMs {
            p50
            p95
            p99
          }
        }
      }
      healthEvents(first: 20) {
        id
        from
        to
        reason
        createdAt
      }
    }
  }
`)

const RecentPixelsQuery = graphql(`
  query WebhookPixels($id: ID!) {
    webhook(id: $id) {
      id
      pixels(first: 15) {
        edges {
          node {
            id
            status
            trigger
            createdAt
            attemptCount
            call {
              uuid
              callerNumber
            }
          }
        }
      }
    }
  }
`)

const EnableWebhook = graphql(`
  mutation EnableWebhook($id: ID!) {
    enableWebhook(input: { id: $id }) {
      id
      enabled
      circuitState
      circuitReason
    }
  }
`)

const HealthChanged = graphql(`
  subscription WebhookHealthChanged($id: ID!) {
    webhookHealthChanged(webhookId: $id) {
      id
      to
    }
  }
`)

const WINDOWS = [
  ['HOUR', 'Last hour'],
  ['DAY', 'Last day'],
  ['WEEK', 'Last week'],
] as const

const FAILURE_KINDS = [
  ['timeout', 'timeouts'],
  ['network', 'network errors'],
  ['http5xx', 'HTTP 5xx'],
  ['http429', 'HTTP 429'],
  ['http4xx', 'other HTTP 4xx'],
  ['httpOther', 'HTTP 1xx/3xx'],
  ['refused', 'address refused'],
] as const

export function HealthPanel({ webhookId }: { webhookId: string }) {
  const [params, setParams] = useSearchParams()
  const window = (params.get('window') ?? 'HOUR') as 'HOUR' | 'DAY' | 'WEEK'
  const [result, reexecute] = useQuery({ query: HealthQuery, variables: { id: webhookId, window } })
  const [pixels, reexecutePixels] = useQuery({ query: RecentPixelsQuery, variables: { id: webhookId } })
  const [enabled, enable] = useMutation(EnableWebhook)
  useSubscription({ query: HealthChanged, variables: { id: webhookId } }, (_prev, event) => {
    reexecute({ requestPolicy: 'network-only' })
    reexecutePixels({ requestPolicy: 'network-only' })
    return event
  })
  const w = result.data?.webhook
  const h = w?.health

  const charts = useMemo(() => {
    const series = h?.series ?? []
    const times = series.map((p) => Date.parse(p.at) / 1000)
    const rate: Line[] = [{ label: 'success rate', color: '#0f7b3f', values: series.map((p) => (p.successRate == null ? null : p.successRate * 100)) }]
    const latency: Line[] = [
      { label: 'p50', color: '#1d4ed8', values: series.map((p) => p.latencyMs.p50 ?? null) },
      { label: 'p95', color: '#b45309', values: series.map((p) => p.latencyMs.p95 ?? null) },
      { label: 'p99', color: '#b42318', values: series.map((p) => p.latencyMs.p99 ?? null) },
    ]
    const span: [number, number] = h ? [Date.parse(h.from) / 1000, Date.parse(h.to) / 1000] : [0, 1]
    return { times, rate, latency, span }
  }, [h])

  if (result.fetching && !w) return <Loading what="Loading health" />
  if (!w || !h) return <ErrorNote error={result.error ?? 'No such webhook.'} />
  const needsEnable = w.circuitState !== 'CLOSED' || !w.enabled

  return (
    <div>
      <div className={`panel circuit ${w.circuitState.toLowerCase()}`}>
        <div className="heading-row">
          <h2>
            Circuit <Badge value={w.circuitState} />
          </h2>
          {needsEnable && (
            <button type="button" disabled={enabled.fetching} onClick={() => enable({ id: webhookId })}>
              {enabled.fetching ? 'Re-enabling…' : 'Re-enable'}
            </button>
          )}
        </div>
        <ErrorNote error={enabled.error} />
        <p>
          {w.circuitReason ? (
            <WithTimes text={w.circuitReason} />
          ) : w.circuitState === 'CLOSED' ? (
            'Closed: pixels go out as they are fired.'
          ) : (
            'No reason recorded.'
          )}
        </p>
        <dl className="facts">
          {w.circuitChangedAt && (
            <>
              <dt>Since</dt>
              <dd>
                <Time at={w.circuitChangedAt} />
              </dd>
            </>
          )}
          {w.circuitProbeAt && w.circuitState === 'OPEN' && (
            <>
              <dt>Next probe</dt>
              <dd>
                <Time at={w.circuitProbeAt} />
              </dd>
            </>
          )}
          <dt>Trips since it last closed</dt>
          <dd>{w.circuitTrips}</dd>
          <dt>Failing since</dt>
          <dd>{w.failingSince ? <Time at={w.failingSince} /> : 'not failing'}</dd>
        </dl>
        <h3>History</h3>
        {w.healthEvents.length === 0 ? (
          <Empty>The circuit has not changed.</Empty>
        ) : (
          <ul className="plain">
            {w.healthEvents.map((e) => (
              <li key={e.id}>
                <Time at={e.createdAt} />: <Badge value={e.from} /> → <Badge value={e.to} /> <WithTimes text={e.reason} />
              </li>
            ))}
          </ul>
        )}
      </div>

      <div className="heading-row">
        <h2>Endpoint health</h2>
        <fieldset className="toolbar plain-fieldset">
          <legend className="sr-only">Health window</legend>
          {WINDOWS.map(([key, label]) => (
            <button
              key={key}
              type="button"
              className={key === window ? '' : 'secondary'}
              aria-pressed={key === window}
              onClick={() =>
                setParams((p) => {
                  p.set('window', key)
                  return p
                })
              }
            >
              {label}
            </button>
          ))}
        </fieldset>
      </div>
      <div className="figures">
        <Figure n={h.attempts} what="attempts" />
        <Figure n={h.successRate == null ? '—' : `${Math.round(h.successRate * 1000) / 10} %`} what="succeeded" />
        <Figure n={h.latencyMs.p50 == null ? '—' : `${h.latencyMs.p50} ms`} what="latency p50" />
        <Figure n={h.latencyMs.p95 == null ? '—' : `${h.latencyMs.p95} ms`} what="latency p95" />
        <Figure n={h.latencyMs.p99 == null ? '—' : `${h.latencyMs.p99} ms`} what="latency p99" />
        <Figure n={h.failures.total} what="failed attempts" />
      </div>
      <dl className="facts">
        <dt>Last success</dt>
        <dd>
          <Time at={h.lastSuccessAt} />
        </dd>
        <dt>Last failure</dt>
        <dd>
          <Time at={h.lastFailureAt} />
        </dd>
      </dl>
      {h.attempts === 0 ? (
        <Empty>No delivery attempts in this window.</Empty>
      ) : (
        <>
          <div className="grid2" style={{ marginTop: '1rem' }}>
            <TimeChart title="Success rate" times={charts.times} lines={charts.rate} unit="%" max={100} span={charts.span} />
            <TimeChart title="Latency percentiles" times={charts.times} lines={charts.latency} unit=" ms" span={charts.span} />
          </div>
          <h3>Failures by kind</h3>
          {h.failures.total === 0 ? (
            <Empty>No failed attempts.</Empty>
          ) : (
            <table className="kv">
              <tbody>
                {FAILURE_KINDS.filter(([k]) => h.failures[k] > 0).map(([k, label]) => (
                  <tr key={k}>
                    <th scope="row">{label}</th>
                    <td>{h.failures[k]}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}

      <h2>Latest pixels</h2>
      <ErrorNote error={pixels.error} />
      {(pixels.data?.webhook.pixels.edges.length ?? 0) === 0 ? (
        <Empty>This webhook has not fired yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="log">
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Call</th>
                <th scope="col">Trigger</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {pixels.data?.webhook.pixels.edges.map(({ node: p }) => (
                <tr key={p.id}>
                  <td data-label="Created">
                    <Link href={`/pixels/${p.id}`}>
                      <Time at={p.createdAt} />
                    </Link>
                  </td>
                  <td data-label="Call" className="mono">
                    <Link href={`/calls/${encodeURIComponent(p.call.uuid)}`}>{p.call.callerNumber}</Link>
                  </td>
                  <td data-label="Trigger">{triggerWords(p.trigger)}</td>
                  <td data-label="Status">
                    <Badge value={p.status} /> <span className="muted">{plural(p.attemptCount, 'attempt')}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}

function Figure({ n, what }: { n: number | string; what: string }) {
  return (
    <div className="figure">
      <span className="n">{n}</span>
      <span className="what">{what}</span>
    </div>
  )
}
