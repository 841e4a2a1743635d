// The live tail: pixels, postbacks and circuit changes as they happen (graphql-ws), filterable, pausable,
// holding the last MAX_EVENTS in memory. Events are gathered in a buffer and drawn a few times a second, so
// a busy stream does not redraw the page on every event.
import { useEffect, useMemo, useRef, useState } from 'react'
import { useSubscription } from 'urql'
import { Link, useSearchParams } from 'wouter'
import { graphql } from '../graphql.ts'
import { Badge } from '../ui/Badge.tsx'
import { Choices } from '../ui/Filters.tsx'
import { Empty } from '../ui/States.tsx'
import { Time, WithTimes } from '../ui/Time.tsx'
import { usePageTitle } from '../ui/usePageTitle.ts'
import { OUTCOME_WORDS, plural, triggerWords } from '../ui/words.ts'
import { campaignChoice, unlistedCampaign, useCampaignChoices } from './queries.ts'

export const MAX_EVENTS = 500
const DRAW_EVERY_MS = 250

const PixelFired = graphql(`
  subscription TailPixels {
    pixelFired {
      id
      status
      trigger
      attemptCount
      createdAt
      completedAt
      responseNote
      webhook {
        id
        name
        campaign {
          id
          name
        }
      }
      call {
        uuid
        callerNumber
      }
    }
  }
`)

const PostbackReceived = graphql(`
  subscription TailPostbacks {
    postbackReceived {
      id
      outcome
      httpStatus
      createdAt
      callerNumber
      tags
      campaign {
        id
        name
      }
      apiKey {
        name
      }
      problems {
        message
      }
    }
  }
`)

const HealthChanged = graphql(`
  subscription TailCircuits {
    webhookHealthChanged {
      id
      webhookId
      from
      to
      reason
      createdAt
      webhook {
        name
        campaign {
          id
        }
      }
    }
  }
`)

interface TailEvent {
  key: string
  kind: 'pixel' | 'postback' | 'circuit'
  at: string
  status: string
  campaignId: string | null
  webhookId: string | null
  text: string
  body: React.ReactNode
}

export function LiveTail() {
  usePageTitle('Live tail')
  const [params, setParams] = useSearchParams()
  const choices = useCampaignChoices()
  const [paused, setPaused] = useState(false)
  const [shown, setShown] = useState<TailEvent[]>([])
  const buffer = useRef<TailEvent[]>([])
  const dirty = useRef(false)
  const [received, setReceived] = useState(0)
  const count = useRef(0)

  const pausedAt = useRef(0)
  const add = (e: TailEvent) => {
    // the same pixel streams once per attempt and state: each event is a line of its own
    buffer.current.unshift({ ...e, key: `${e.key}-${count.current}` })
    if (buffer.current.length > MAX_EVENTS) buffer.current.length = MAX_EVENTS
    count.current++
    dirty.current = true
  }
  useEffect(() => {
    const timer = setInterval(() => {
      if (!dirty.current) return
      dirty.current = false
      setReceived(count.current)
      if (!paused) setShown([...buffer.current])
    }, DRAW_EVERY_MS)
    return () => clearInterval(timer)
  }, [paused])
  useEffect(() => {
    if (!paused) setShown([...buffer.current])
  }, [paused])

  const [pixelStream] = useSubscription({ query: PixelFired }, (_p, data) => {
    const p = data.pixelFired
    add({
      key: `pixel-${p.id}`,
      kind: 'pixel',
      at: p.completedAt ?? p.createdAt,
      status: p.status,
      campaignId: p.webhook.campaign.id,
      webhookId: p.webhook.id,
      text: `${p.webhook.name} ${p.webhook.campaign.name} ${p.call.callerNumber} ${p.call.uuid} ${p.trigger} ${p.status} ${p.responseNote ?? ''}`,
      body: (
        <>
          Pixel <Link href={`/pixels/${p.id}`}>{p.webhook.name}</Link> on {triggerWords(p.trigger)} for{' '}
          <Link href={`/calls/${encodeURIComponent(p.call.uuid)}`} className="mono">
            {p.call.callerNumber}
          </Link>
          {p.attemptCount > 0 && <span className="muted"> · attempt {p.attemptCount}</span>}
          {p.responseNote && (
            <span className="muted">
              {' '}
              · <WithTimes text={p.responseNote} />
            </span>
          )}
        </>
      ),
    })
    return data
  })
  const [postbackStream] = useSubscription({ query: PostbackReceived }, (_p, data) => {
    const p = data.postbackReceived
    const tags = Object.entries((p.tags as Record<string, string> | null) ?? {})
      .map(([k, v]) => `${k}:${v}`)
      .join(', ')
    add({
      key: `postback-${p.id}`,
      kind: 'postback',
      at: p.createdAt,
      status: p.outcome,
      campaignId: p.campaign?.id ?? null,
      webhookId: null,
      text: `${p.callerNumber ?? ''} ${p.apiKey.name} ${p.campaign?.name ?? ''} ${tags} ${p.problems.map((x) => x.message).join(' ')} ${p.outcome}`,
      body: (
        <>
          <Link href={`/postbacks/${p.id}`}>Postback</Link> from key {p.apiKey.name}
          {p.callerNumber && (
            <>
              {' '}
              for <span className="mono">{p.callerNumber}</span>
            </>
          )}
          : {p.outcome === 'REJECTED' ? <span className="bad-text">{p.problems[0]?.message}</span> : <span className="mono">{tags}</span>}
        </>
      ),
    })
    return data
  })
  const [circuitStream] = useSubscription({ query: HealthChanged }, (_p, data) => {
    const e = data.webhookHealthChanged
    add({
      key: `circuit-${e.id}`,
      kind: 'circuit',
      at: e.createdAt,
      status: e.to,
      campaignId: e.webhook.campaign.id,
      webhookId: e.webhookId,
      text: `${e.webhook.name} ${e.from} ${e.to} ${e.reason}`,
      body: (
        <>
          Circuit of <Link href={`/webhooks/${e.webhookId}`}>{e.webhook.name}</Link>: {e.from.toLowerCase()} → {e.to.toLowerCase()},{' '}
          <WithTimes text={e.reason} />
        </>
      ),
    })
    return data
  })

  const campaign = params.get('campaign') ?? ''
  const webhook = params.get('webhook') ?? ''
  const status = params.get('status') ?? ''
  const text = params.get('q') ?? ''
  const setFilter = (k: string, v: string) =>
    setParams(
      (p) => {
        if (v) p.set(k, v)
        else p.delete(k)
        return p
      },
      { replace: true },
    )
  const visible = useMemo(() => {
    const needle = text.trim().toLowerCase()
    return shown.filter(
      (e) =>
        (!campaign || e.campaignId === campaign) &&
        (!webhook || e.webhookId === webhook) &&
        (!status || e.status === status) &&
        (!needle || e.text.toLowerCase().includes(needle)),
    )
  }, [shown, campaign, webhook, status, text])

  const campaigns = choices.campaigns
  const webhooks = campaigns.filter((c) => !campaign || c.id === campaign).flatMap((c) => c.webhooks)
  const streamError = pixelStream.error ?? postbackStream.error ?? circuitStream.error

  return (
    <section className="page">
      <h1>Live tail</h1>
      <p className="lede">Pixels, postbacks and circuit changes as they happen; the last {MAX_EVENTS} are kept while this page is open.</p>
      <form className="filters" aria-label="Filter the live tail" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="tail-campaign">Campaign</label>
          <select
            id="tail-campaign"
            value={campaign}
            onChange={(e) => setFilter('campaign', e.target.value)}
            aria-describedby={choices.hint ? 'tail-campaign-hint' : undefined}
          >
            <Choices options={campaigns.map(campaignChoice)} value={campaign} unlisted={unlistedCampaign} />
          </select>
          {choices.hint && (
            <span className="hint" id="tail-campaign-hint">
              {choices.hint}
            </span>
          )}
        </div>
        <div className="field">
          <label htmlFor="tail-webhook">Webhook</label>
          <select id="tail-webhook" value={webhook} onChange={(e) => setFilter('webhook', e.target.value)}>
            <Choices options={webhooks.map((w) => [w.id, w.name] as const)} value={webhook} unlisted={(id) => `webhook ${id}`} />
          </select>
        </div>
        <div className="field">
          <label htmlFor="tail-status">Status</label>
          <select id="tail-status" value={status} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">Any</option>
            {['SUCCEEDED', 'FAILED', 'PENDING', 'DELIVERING', 'CANCELLED'].map((s) => (
              <option key={s} value={s}>
                pixel {s.toLowerCase()}
              </option>
            ))}
            {Object.entries(OUTCOME_WORDS).map(([k, v]) => (
              <option key={k} value={k}>
                postback {v}
              </option>
            ))}
            {['OPEN', 'HALF_OPEN', 'CLOSED', 'DISABLED'].map((s) => (
              <option key={s} value={s}>
                circuit {s.replace('_', '-').toLowerCase()}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="tail-text">Text</label>
          <input id="tail-text" type="search" value={text} onChange={(e) => setFilter('q', e.target.value)} placeholder="caller, webhook, tag…" />
        </div>
        <div className="actions">
          <button
            type="button"
            onClick={() => {
              pausedAt.current = count.current
              setPaused(!paused)
            }}
            aria-pressed={paused}
          >
            {paused ? 'Resume' : 'Pause'}
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              buffer.current = []
              setShown([])
            }}
          >
            Clear
          </button>
        </div>
      </form>
      {/* only pausing and resuming are announced: a busy stream would talk over everything else */}
      <p className="muted">
        <span role="status">{paused ? 'Paused.' : 'Listening.'}</span> {paused && `${plural(received - pausedAt.current, 'new event')} waiting. `}
        {received} received, {visible.length} shown.
      </p>
      {streamError && <p className="error">The live stream failed: {streamError.message}</p>}
      {visible.length === 0 ? (
        <Empty>{shown.length ? 'No event matches the filters.' : 'Waiting for events: fire a webhook, send a postback or start a call.'}</Empty>
      ) : (
        <ol className="tail" aria-label="Events, newest first">
          {visible.map((e) => (
            <li key={e.key} className={e.kind}>
              <span className="when-col">
                <Time at={e.at} clock />
              </span>
              <span>
                <Badge value={e.status} />
              </span>
              <span className="what">{e.body}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}
