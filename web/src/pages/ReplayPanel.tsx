// Bulk replay of a webhook's pixels: a filter, a dry-run count first, then the run with its progress
// streamed (replayJobUpdated), and cancel.
import { useEffect, useState } from 'react'
import { useClient, useMutation, useQuery, useSubscription } from 'urql'
import { graphql, type ResultOf, type VariablesOf } from '../graphql.ts'
import { Badge } from '../ui/Badge.tsx'
import { ErrorNote } from '../ui/States.tsx'
import { fromLocalInput, Time } from '../ui/Time.tsx'
import { plural, TRIGGER_WORDS } from '../ui/words.ts'

const ReplayJobFields = graphql(`
  fragment ReplayJobFields on ReplayJob @_unmask {
    id
    status
    total
    done
    failed
    createdAt
    startedAt
    finishedAt
    error
    filter {
      webhookId
      status
      trigger
    }
    pixels {
      count
      succeeded
      failed
      pending
    }
  }
`)

const ReplayMutation = graphql(
  `
  mutation ReplayPixels($input: ReplayPixelsInput!) {
    replayPixels(input: $input) {
      count
      dryRun
      job {
        ...ReplayJobFields
      }
    }
  }
`,
  [ReplayJobFields],
)

const CancelMutation = graphql(
  `
  mutation CancelReplay($id: ID!) {
    cancelReplay(input: { id: $id }) {
      ...ReplayJobFields
    }
  }
`,
  [ReplayJobFields],
)

const ReplayUpdates = graphql(
  `
  subscription ReplayJobUpdated($id: ID!) {
    replayJobUpdated(id: $id) {
      ...ReplayJobFields
    }
  }
`,
  [ReplayJobFields],
)

const ReplayJobQuery = graphql(
  `
  query ReplayJob($id: ID!) {
    replayJob(id: $id) {
      ...ReplayJobFields
    }
  }
`,
  [ReplayJobFields],
)

const RecentReplays = graphql(
  `
  query RecentReplays {
    replayJobs(first: 20) {
      edges {
        node {
          ...ReplayJobFields
        }
      }
    }
  }
`,
  [ReplayJobFields],
)

type Filter = { status: string; trigger: string; from: string; to: string }
/** a pixel trigger, as the API's PixelTrigger enum names it (the select offers only those) */
type Trigger = NonNullable<VariablesOf<typeof ReplayMutation>['input']['filter']['trigger']>
type Job = ResultOf<typeof ReplayJobFields>

export function ReplayPanel({ webhookId }: { webhookId: string }) {
  const [filter, setFilter] = useState<Filter>({ status: 'FAILED', trigger: '', from: '', to: '' })
  const [counted, setCounted] = useState<{ count: number; key: string } | null>(null)
  const [replay, runReplay] = useMutation(ReplayMutation)
  const [cancelled, cancel] = useMutation(CancelMutation)
  const [job, setJob] = useState<Job | null>(null)
  const [recent, reexecuteRecent] = useQuery({ query: RecentReplays })
  const key = JSON.stringify(filter)
  const input = (dryRun: boolean) => ({
    dryRun,
    filter: {
      webhookId,
      ...(filter.status ? { status: filter.status as 'FAILED' } : {}),
      ...(filter.trigger ? { trigger: filter.trigger as Trigger } : {}),
      ...(filter.from ? { createdAfter: fromLocalInput(filter.from) } : {}),
      ...(filter.to ? { createdBefore: fromLocalInput(filter.to) } : {}),
    },
  })
  useSubscription(
    { query: ReplayUpdates, variables: { id: job?.id ?? '' }, pause: !job || ['COMPLETED', 'CANCELLED', 'FAILED'].includes(job.status) },
    (_p, data) => {
      setJob(data.replayJobUpdated)
      return data
    },
  )
  const running = job && !['COMPLETED', 'CANCELLED', 'FAILED'].includes(job.status)
  // the stream may open after a short replay has already moved on: read the job too while it runs, and
  // while its new pixels are being delivered
  const client = useClient()
  const runningId = running || (job && job.pixels.pending > 0) ? job.id : null
  useEffect(() => {
    if (!runningId) return
    const timer = setInterval(async () => {
      const r = await client.query(ReplayJobQuery, { id: runningId }, { requestPolicy: 'network-only' }).toPromise()
      if (r.data?.replayJob) setJob(r.data.replayJob)
    }, 1500)
    return () => clearInterval(timer)
  }, [runningId, client])
  const mine = (recent.data?.replayJobs.edges ?? []).map((e) => e.node).filter((j) => j.filter.webhookId === webhookId && j.id !== job?.id)

  return (
    <div>
      <form
        className="panel"
        aria-label="Replay filter"
        onSubmit={async (e) => {
          e.preventDefault()
          const r = await runReplay({ input: input(true) })
          if (r.data) setCounted({ count: r.data.replayPixels.count, key })
        }}
      >
        <p className="hint">Delivers again the pixels the filter selects, each as a new pixel (trigger resend). Count them first.</p>
        <div className="form-grid">
          <div className="form-field">
            <label htmlFor="replay-status">Status</label>
            <select id="replay-status" value={filter.status} onChange={(e) => setFilter({ ...filter, status: e.target.value })}>
              <option value="">any</option>
              {['FAILED', 'SUCCEEDED', 'CANCELLED', 'PENDING'].map((s) => (
                <option key={s} value={s}>
                  {s.toLowerCase()}
                </option>
              ))}
            </select>
          </div>
          <div className="form-field">
            <label htmlFor="replay-trigger">Trigger</label>
            <select id="replay-trigger" value={filter.trigger} onChange={(e) => setFilter({ ...filter, trigger: e.target.value })}>
              <option value="">any</option>
              {Object.entries(TRIGGER_WORDS).map(([k, v]) => (
                <option key={k} value={k}>
                  {v}
                </option>
              ))}
            </select>
          </div>
          <div className="form-field">
            <label htmlFor="replay-from">Created from</label>
            <input id="replay-from" type="datetime-local" value={filter.from} onChange={(e) => setFilter({ ...filter, from: e.target.value })} />
          </div>
          <div className="form-field">
            <label htmlFor="replay-to">Created before</label>
            <input id="replay-to" type="datetime-local" value={filter.to} onChange={(e) => setFilter({ ...filter, to: e.target.value })} />
          </div>
        </div>
        <div className="toolbar">
          <button type="submit" className="secondary" disabled={replay.fetching}>
            Count pixels (dry run)
          </button>
          {counted && counted.key === key && (
            <>
              <span role="status">{plural(counted.count, 'pixel')} match.</span>
              <button
                type="button"
                disabled={counted.count === 0 || replay.fetching || !!running}
                onClick={async () => {
                  const r = await runReplay({ input: input(false) })
                  const started = r.data?.replayPixels.job
                  if (started) setJob(started)
                  reexecuteRecent({ requestPolicy: 'network-only' })
                }}
              >
                Replay {plural(counted.count, 'pixel')}
              </button>
            </>
          )}
        </div>
        <ErrorNote error={replay.error} />
      </form>
      {job && (
        <section className="panel" aria-label="Replay progress">
          <h2>
            Replay <Badge value={job.status} />
          </h2>
          <progress max={Math.max(job.total, 1)} value={job.done + job.failed} aria-label="replayed" />{' '}
          <span>
            {job.done + job.failed} of {job.total} replayed
            {job.failed ? `, ${job.failed} not (webhook deleted)` : ''}; new pixels: {job.pixels.succeeded} succeeded, {job.pixels.failed} failed,{' '}
            {job.pixels.pending} pending
          </span>
          {job.error && <p className="error">{job.error}</p>}
          {running && (
            <p>
              <button
                type="button"
                className="danger"
                disabled={cancelled.fetching}
                onClick={async () => {
                  const r = await cancel({ id: job.id })
                  if (r.data) setJob(r.data.cancelReplay)
                }}
              >
                Cancel replay
              </button>
            </p>
          )}
          <ErrorNote error={cancelled.error} />
        </section>
      )}
      <h2>Earlier replays of this webhook</h2>
      {mine.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="plain">
          {mine.map((j) => (
            <li key={j.id}>
              <Time at={j.createdAt} /> <Badge value={j.status} /> {j.done} of {j.total} replayed ({j.filter.status?.toLowerCase() ?? 'any status'}
              {j.filter.trigger ? `, ${TRIGGER_WORDS[j.filter.trigger] ?? j.filter.trigger}` : ''})
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
