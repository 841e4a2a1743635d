// The call a token-rendering unit test renders against: a call started just before 07:00 UTC on the day
// US clocks moved forward (2024-03-10), answered at 07:00:05, not ended.
import type { TokenContext } from '../../src/webhooks/renderTokens.js'

export const tokenContext = (tags: Record<string, string> = {}, call: Partial<TokenContext['call']> = {}): TokenContext => ({
  call: {
    uuid: 'call-1',
    callerNumber: '+14155550100',
    calledNumber: '+18005550199',
    campaignId: 'camp-9',
    durationSeconds: 42,
    startedAt: new Date('2024-03-10T06:59:30.250Z'),
    answeredAt: new Date('2024-03-10T07:00:05Z'),
    endedAt: null,
    ...call,
  },
  tags,
})
