// The telephony door: `POST /call-events` with one JSON event, the same operation as the startCall,
// answerCall, endCall and convertCall mutations without GraphQL's cost per request (a telephony platform
// reports every call three or four times). Admin keys only, as `Authorization: Bearer` or `X-Ringhook-Key`.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Config } from '../core/config.js'
import { authenticate } from '../tenancy/authenticate.js'
import { recordCallEvent, waitForStartPixels } from '../calls/callEvents.js'
import { parseCallEvent } from '../calls/callEventSchema.js'
import { badInput, forbidden, RinghookError } from '../core/errors.js'
import { readBody, sendJson } from './readBody.js'
import type { Services } from '../graphql/context.js'
import { tagMap } from '../calls/tags.js'

export const CALL_EVENTS_PATH = '/call-events'

export function createCallEventRoutes(services: Services, config: Config) {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const key = req.headers['x-ringhook-key']
      const auth = await authenticate(services.apiKeys, (Array.isArray(key) ? key[0] : key) ?? req.headers.authorization)
      if (auth.role !== 'ADMIN') throw forbidden('call events need an admin key')
      const raw = (await readBody(req, config.bodyLimitBytes)).toString('utf8')
      let body: unknown
      try {
        body = JSON.parse(raw)
      } catch (e) {
        throw badInput('body', `invalid JSON: ${(e as Error).message}`)
      }
      const { input, waitForWebhooksMs } = parseCallEvent(body)
      const recorded = await recordCallEvent(services, auth.companyId, input)
      let tags: Record<string, string> | undefined
      if (waitForWebhooksMs) {
        await waitForStartPixels(services.db, recorded.call.id, waitForWebhooksMs)
        tags = await tagMap(services.db, recorded.call.id)
      }
      sendJson(res, 200, {
        event: input.event,
        call: recorded.call,
        ...(tags ? { tags } : {}),
        pixels: recorded.pixels.map((p) => ({ id: p.id, webhookId: p.webhookId, trigger: p.trigger, status: p.status, nextAttemptAt: p.nextAttemptAt })),
      })
    } catch (e) {
      if (e instanceof RinghookError) return sendJson(res, e.httpStatus, { error: e.message, code: e.code, ...(e.field ? { field: e.field } : {}) })
      throw e
    }
  }
  return { handles: (method: string | undefined, path: string) => method === 'POST' && path === CALL_EVENTS_PATH, handle }
}
