// One call: its timeline, tags with their source, the postbacks that reached it, the pixels fired, and for
// every webhook of its campaign whether it fired or why not.
import { useQuery, useSubscription } from 'urql'
import { Link } from 'wouter'
import { CallQuery } from './callQueries.ts'
import { graphql, type ResultOf } from '../graphql.ts'
import { Badge } from '../ui/Badge.tsx'
import { Empty, ErrorNote, Loading } from '../ui/States.tsx'
import { Time, WithTimes } from '../ui/Time.tsx'
import { usePageTitle } from '../ui/usePageTitle.ts'
import { useThrottled } from '../ui/useThrottled.ts'
import { attemptWords, OPERATOR_WORDS, OUTCOME_WORDS, plural, SOURCE_WORDS, triggerWords } from '../ui/words.ts'

// the page reads the call again as its pixels settle and as it changes
const CallPixels = graphql(`
  subscription CallPixels($uuid: String!) {
    pixelFired(callUuid: $uuid) {
      id
      status
    }
  }
`)
const CallChanges = graphql(`
  subscription CallChanges($uuid: String!) {
    callUpdated(uuid: $uuid) {
      event
    }
  }
`)

type Call = NonNullable<ResultOf<typeof CallQuery>['call']>

export function CallOverview({ uuid }: { uuid: string }) {
  usePageTitle(`Call ${uuid}`)
  const [result, reexecute] = useQuery({ query: CallQuery, variables: { uuid } })
  const call = result.data?.call
  const refresh = useThrottled(() => reexecute({ requestPolicy: 'network-only' }), 500)
  useSubscription({ query: CallPixels, variables: { uuid }, pause: !call }, (_p, data) => {
    refresh()
    return data
  })
  useSubscription({ query: CallChanges, variables: { uuid }, pause: !call }, (_p, data) => {
    refresh()
    return data
  })
  if (result.fetching && !call) return <Loading what="Loading the call" />
  if (!call)
    return (
      <section className="page">
        <h1>Call {uuid}</h1>
        <ErrorNote error={result.error ?? 'No such call.'} />
        <p>
          <Link href="/calls">Back to the call log</Link>
        </p>
      </section>
    )
  const notFired = call.webhookEvaluations.filter((e) => !e.fired).length
  return (
    <section className="page">
      <p className="crumbs">
        <Link href="/calls">Calls</Link> / <span className="mono">{call.uuid}</span>
      </p>
      <div className="heading-row">
        <div>
          <h1>
            Call from <span className="mono">{call.callerNumber}</span>
          </h1>
          <p className="lede">
            {call.campaign.name} · <Badge value={call.status} /> {call.converted && <Badge tone="ok">converted</Badge>} · started <Time at={call.startedAt} />
          </p>
        </div>
      </div>
      <ErrorNote error={result.error} />
      <div className="panel">
        <h2>Webhooks of the campaign: fired or why not</h2>
        {call.webhookEvaluations.length === 0 ? (
          <Empty>
            The campaign has no webhooks. <Link href={`/campaigns/${call.campaign.id}/webhooks/new`}>Add one</Link>.
          </Empty>
        ) : (
          call.webhookEvaluations.map((e) => <Evaluation key={e.webhook.id} evaluation={e} />)
        )}
      </div>

      <div className="grid2">
        <div className="panel">
          <h2>Call</h2>
          <dl className="facts">
            <dt>Call UUID</dt>
            <dd className="mono">{call.uuid}</dd>
            <dt>Caller</dt>
            <dd className="mono">{call.callerNumber}</dd>
            <dt>Called</dt>
            <dd className="mono">{call.calledNumber ?? '—'}</dd>
            <dt>Campaign</dt>
            <dd>
              <Link href={`/campaigns/${call.campaign.id}`}>{call.campaign.name}</Link>
            </dd>
            <dt>Duration</dt>
            <dd>{call.durationSeconds == null ? '—' : `${call.durationSeconds} s connected`}</dd>
            <dt>Pixels</dt>
            <dd>
              {plural(call.pixels.length, 'pixel')} fired; {notFired ? `${plural(notFired, 'webhook')} did not fire` : 'every webhook fired'}
            </dd>
          </dl>
        </div>
        <div className="panel">
          <h2>Tags</h2>
          {call.tags.length === 0 ? (
            <Empty>No tags on this call.</Empty>
          ) : (
            <table className="log tags">
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Value</th>
                  <th scope="col">Source</th>
                  <th scope="col">Written</th>
                </tr>
              </thead>
              <tbody>
                {call.tags.map((t) => (
                  <tr key={t.key}>
                    <td data-label="Key" className="mono">
                      {t.key}
                    </td>
                    <td data-label="Value" className="mono">
                      {t.value}
                    </td>
                    <td data-label="Source">
                      <TagSource source={t.source} sourceId={t.sourceId} />
                    </td>
                    <td data-label="Written">
                      <Time at={t.updatedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>

      <div className="grid2">
        <div className="panel">
          <h2>Timeline</h2>
          <Timeline call={call} />
        </div>
        <div className="panel">
          <h2>Pixels fired</h2>
          {call.pixels.length === 0 ? (
            <Empty>No pixel was fired for this call.</Empty>
          ) : (
            <table className="log">
              <thead>
                <tr>
                  <th scope="col">Webhook</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                </tr>
              </thead>
              <tbody>
                {call.pixels.map((p) => (
                  <tr key={p.id}>
                    <td data-label="Webhook">
                      <Link href={`/pixels/${p.id}`}>{p.webhook.name}</Link>
                    </td>
                    <td data-label="Trigger">{triggerWords(p.trigger)}</td>
                    <td data-label="Status">
                      <Badge value={p.status} />
                    </td>
                    <td data-label="Attempts">
                      {p.attempts.length ? (
                        <div>
                          {p.attempts.map((a) => (
                            <div key={a.number}>{attemptWords(a)}</div>
                          ))}
                        </div>
                      ) : (
                        <span className="muted">{p.responseNote ? <WithTimes text={p.responseNote} /> : 'none yet'}</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Postbacks that reached it</h2>
          {call.postbacks.length === 0 ? (
            <Empty>No postback reached this call.</Empty>
          ) : (
            <ul className="plain">
              {call.postbacks.map((p) => (
                <li key={p.id}>
                  <Link href={`/postbacks/${p.id}`}>
                    <Time at={p.createdAt} />
                  </Link>{' '}
                  <Badge value={p.outcome}>{OUTCOME_WORDS[p.outcome]}</Badge>{' '}
                  <span className="mono">
                    {Object.entries((p.tags as Record<string, string>) ?? {})
                      .map(([k, v]) => `${k}:${v}`)
                      .join(', ')}
                  </span>
                </li>
              ))}
            </ul>
          )}
          <MorePostbacks call={call} />
        </div>
      </div>
    </section>
  )
}

/** The API lists a call's first postbacks: say so when there are more, and where they are. */
function MorePostbacks({ call }: { call: Call }) {
  if (call.postbackCount <= call.postbacks.length) return null
  return (
    <p className="hint">
      The first {call.postbacks.length} of {plural(call.postbackCount, 'postback')} are listed here and in the timeline.{' '}
      <Link href={`/postbacks?caller=${encodeURIComponent(call.callerNumber)}`}>
        The postback log for <span className="mono">{call.callerNumber}</span>
      </Link>{' '}
      has every postback sent with this caller number (those sent with the call's UUID alone are not among them).
    </p>
  )
}

function TagSource({ source, sourceId }: { source: string; sourceId: string | null }) {
  const words = SOURCE_WORDS[source] ?? source
  if (sourceId && source === 'POSTBACK') return <Link href={`/postbacks/${sourceId}`}>{words}</Link>
  if (sourceId && source === 'WEBHOOK') return <Link href={`/pixels/${sourceId}`}>{words}</Link>
  return <>{words}</>
}

function Evaluation({ evaluation: e }: { evaluation: Call['webhookEvaluations'][number] }) {
  return (
    <div className={`eval ${e.fired ? 'fired' : 'not-fired'}`}>
      <strong>
        <Link href={`/webhooks/${e.webhook.id}`}>{e.webhook.name}</Link>
      </strong>{' '}
      <span className="muted">on {triggerWords(e.trigger)}</span>{' '}
      {e.fired ? (
        <>
          <Badge tone="info">fired</Badge>{' '}
          {e.pixel && (
            <>
              <Link href={`/pixels/${e.pixel.id}`}>its pixel</Link> <Badge value={e.pixel.status} />
            </>
          )}
        </>
      ) : (
        <Badge tone="bad">did not fire</Badge>
      )}
      {!e.fired && (
        <p className="why">
          Why: {e.reason && <WithTimes text={e.reason} />}
          {e.pixel && (
            <>
              {' '}
              (<Link href={`/pixels/${e.pixel.id}`}>its pixel</Link>)
            </>
          )}
        </p>
      )}
      {e.failedConditions.length > 0 && (
        <ul className="conditions">
          {e.failedConditions.map((c) => (
            <li key={`${c.group}-${c.condition}`}>
              {e.failedConditions.some((x) => x.group !== c.group) && <span className="muted">group {c.group + 1}: </span>}
              <span className="mono">{c.key}</span> {OPERATOR_WORDS[c.operator] ?? c.operator}{' '}
              {c.expected != null && <span className="mono">{Array.isArray(c.expected) ? c.expected.join(', ') : String(c.expected)}</span>}
              {' — '}
              {c.actual == null ? (
                <span>
                  the call has no <span className="mono">{c.key}</span> tag
                </span>
              ) : (
                <span>
                  the call has <span className="mono">{c.actual}</span>
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

type Event = { at: string; tone: '' | 'ok' | 'bad' | 'info'; body: React.ReactNode; key: string }

/** Every event of the call in time order: lifecycle, postbacks, tags, pixels and their attempts. */
function Timeline({ call }: { call: Call }) {
  const events: Event[] = []
  const push = (at: string | null | undefined, tone: Event['tone'], key: string, body: React.ReactNode) => {
    if (at) events.push({ at, tone, key, body })
  }
  push(call.startedAt, 'info', 'started', 'Call started')
  push(call.answeredAt, 'info', 'answered', 'Answered')
  push(call.endedAt, 'info', 'ended', `Ended${call.durationSeconds != null ? ` after ${call.durationSeconds} s connected` : ''}`)
  push(call.convertedAt, 'ok', 'converted', 'Converted')
  for (const p of call.postbacks)
    push(
      p.createdAt,
      '',
      `postback-${p.id}`,
      <>
        <Link href={`/postbacks/${p.id}`}>Postback</Link> received: {OUTCOME_WORDS[p.outcome] ?? p.outcome}
      </>,
    )
  // tags grouped by what wrote them
  const groups = new Map<string, Call['tags']>()
  for (const t of call.tags) {
    const k = `${t.source}:${t.sourceId ?? ''}`
    groups.set(k, [...(groups.get(k) ?? []), t])
  }
  for (const [k, tags] of groups) {
    const first = tags.reduce((a, b) => (a.createdAt < b.createdAt ? a : b))
    push(
      first.createdAt,
      '',
      `tags-${k}`,
      <>
        {plural(tags.length, 'tag')} written by <TagSource source={first.source} sourceId={first.sourceId} />:{' '}
        <span className="mono">{tags.map((t) => `${t.key}:${t.value}`).join(', ')}</span>
      </>,
    )
  }
  for (const p of call.pixels) {
    push(
      p.createdAt,
      '',
      `pixel-${p.id}`,
      <>
        Webhook <Link href={`/pixels/${p.id}`}>{p.webhook.name}</Link> fired on {triggerWords(p.trigger)}
      </>,
    )
    for (const a of p.attempts) {
      const ok = a.statusCode != null && a.statusCode >= 200 && a.statusCode < 300
      push(
        a.startedAt,
        ok ? 'ok' : 'bad',
        `attempt-${p.id}-${a.number}`,
        <>
          {p.webhook.name}, attempt {a.number}: {attemptWords(a)}
        </>,
      )
    }
    if (p.completedAt && (p.status === 'FAILED' || p.status === 'CANCELLED'))
      push(
        p.completedAt,
        'bad',
        `done-${p.id}`,
        <>
          {p.webhook.name}: {p.status.toLowerCase()}
          {p.responseNote && (
            <>
              {' '}
              (<WithTimes text={p.responseNote} />)
            </>
          )}
        </>,
      )
  }
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
  return (
    <ol className="timeline">
      {events.map((e) => (
        <li key={e.key} className={e.tone}>
          <span className="when">
            <Time at={e.at} />
          </span>
          {e.body}
        </li>
      ))}
    </ol>
  )
}
